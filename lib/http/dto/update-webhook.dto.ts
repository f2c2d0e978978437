import { Transform } from 'class-transformer';
import { IsArray, IsBoolean, IsObject, IsOptional, IsString, ValidateIf } from 'class-validator';

export class UpdateWebhookDto {
  @IsOptional()
  @IsString()
  url?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  events?: string[];

  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  description?: string | null;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  // Kept exactly as sent: class-transformer would rebuild the map and drop keys such as "toString".
  @IsOptional()
  @IsObject()
  @Transform(({ obj }) => obj.metadata)
  metadata?: Record<string, string>;
}
