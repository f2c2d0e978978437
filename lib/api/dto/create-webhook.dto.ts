import { IsArray, IsString } from 'class-validator';
import { WebhookFieldsDto } from './webhook-fields.dto.js';

export class CreateWebhookDto extends WebhookFieldsDto {
  @IsString()
  url!: string;

  @IsArray()
  @IsString({ each: true })
  events!: string[];
}
