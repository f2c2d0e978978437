import { IsArray, IsString } from 'class-validator';
import { DocProperty, DocSchema } from '../openapi/openapi-metadata.js';
import { EVENTS_DOC, URL_DOC, WebhookFieldsDto } from './webhook-fields.dto.js';

@DocSchema({ additionalProperties: false })
export class CreateWebhookDto extends WebhookFieldsDto {
  @IsString()
  @DocProperty(URL_DOC)
  url!: string;

  @IsArray()
  @IsString({ each: true })
  @DocProperty(EVENTS_DOC)
  events!: string[];
}
