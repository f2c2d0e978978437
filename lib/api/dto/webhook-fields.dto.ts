import { Transform } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, ValidateIf } from 'class-validator';
import { METADATA_LIMITS } from '../../management/endpoint-metadata.js';
import { MAX_DESCRIPTION_LENGTH, MAX_EVENTS_PER_ENDPOINT } from '../../management/webhook-endpoint.service.js';
import { MAX_URL_LENGTH } from '../../security/endpoint-url-policy.js';
import { DocProperty, type PropertyDoc } from '../openapi/openapi-metadata.js';

/** The documented shapes of `url` and `events`; create requires them, update does not. */
export const URL_DOC: PropertyDoc = {
  type: 'string',
  format: 'uri',
  minLength: 1,
  maxLength: MAX_URL_LENGTH,
  description: 'An absolute https URL without credentials or fragment (http and private addresses only where the module allows them).',
  example: 'https://your-domain.com/webhook',
};
export const EVENTS_DOC: PropertyDoc = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  minItems: 1,
  maxItems: MAX_EVENTS_PER_ENDPOINT,
  uniqueItems: true,
  description: 'Event types, `*`, or prefix wildcards such as `user.*`; with a catalog, each must match a known type.',
  example: ['user.created', 'user.updated'],
};

/**
 * Fields optional on both create and update. Shapes only: each field's type, and no unknown fields
 * (the pipe forbids them). Content rules (URL policy, the event catalog, lengths) live in
 * WebhookEndpointService so programmatic callers get them too; the OpenAPI description states both.
 */
export class WebhookFieldsDto {
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @DocProperty({
    type: 'string',
    required: false,
    nullable: true,
    maxLength: MAX_DESCRIPTION_LENGTH,
    description: '`null` clears it.',
    example: 'User events webhook',
  })
  description?: string | null;

  @IsOptional()
  @IsBoolean()
  @DocProperty({
    type: 'boolean',
    required: false,
    description: '`false` disables the endpoint ("disabled through the API"); `true` enables it again.',
  })
  enabled?: boolean;

  // Kept exactly as sent: class-transformer would rebuild the map and drop keys such as "toString".
  @IsOptional()
  @IsObject()
  @Transform(({ obj }) => obj.metadata)
  @DocProperty({
    type: 'object',
    required: false,
    maxProperties: METADATA_LIMITS.keys,
    additionalProperties: { type: 'string', maxLength: METADATA_LIMITS.valueLength },
    description: `Replaced as a whole. Keys are 1-${METADATA_LIMITS.keyLength} characters, not __proto__, constructor or prototype.`,
    example: { team: 'billing' },
  })
  metadata?: Record<string, string>;
}
