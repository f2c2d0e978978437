import { IsArray, IsOptional, IsString } from 'class-validator';
import { WebhookFieldsDto } from './webhook-fields.dto.js';

export class UpdateWebhookDto extends WebhookFieldsDto {
  @IsOptional()
  @IsString()
  url?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  events?: string[];
}
