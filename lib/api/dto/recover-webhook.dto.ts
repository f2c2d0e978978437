import { IsISO8601, IsOptional } from 'class-validator';

export class RecoverWebhookDto {
  @IsISO8601({ strict: true })
  since!: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}
