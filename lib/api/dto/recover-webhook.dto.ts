import { IsISO8601, IsOptional } from 'class-validator';
import { DocProperty, DocSchema } from '../openapi/openapi-metadata.js';

@DocSchema({ additionalProperties: false, description: 'Replays the failed and skipped deliveries created in [since, until).' })
export class RecoverWebhookDto {
  @IsISO8601({ strict: true })
  @DocProperty({
    type: 'string',
    format: 'date-time',
    description: 'Strict ISO 8601, earlier than `until`.',
    example: '2026-11-29T00:00:00Z',
  })
  since!: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  @DocProperty({
    type: 'string',
    format: 'date-time',
    required: false,
    description: 'Strict ISO 8601; defaults to now.',
    example: '2026-11-29T12:00:00Z',
  })
  until?: string;
}
