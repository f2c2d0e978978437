import { Transform } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, ValidateIf } from 'class-validator';

/**
 * Fields optional on both create and update. Shapes only: each field's type, and no unknown fields
 * (the pipe forbids them). Content rules (URL policy, the event catalog, lengths) live in
 * WebhookEndpointService so programmatic callers get them too.
 */
export class WebhookFieldsDto {
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
