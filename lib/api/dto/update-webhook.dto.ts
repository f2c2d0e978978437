import { IsArray, IsOptional, IsString } from 'class-validator';
import { DocProperty, DocSchema } from '../openapi/openapi-metadata.js';
import { EVENTS_DOC, URL_DOC, WebhookFieldsDto } from './webhook-fields.dto.js';

@DocSchema({ additionalProperties: false, minProperties: 1, description: 'A partial update: fields left out are kept.' })
export class UpdateWebhookDto extends WebhookFieldsDto {
  @IsOptional()
  @IsString()
  @DocProperty({ ...URL_DOC, required: false })
  url?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @DocProperty({ ...EVENTS_DOC, required: false })
  events?: string[];
}
