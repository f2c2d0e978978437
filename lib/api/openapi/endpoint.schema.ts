import { DocProperty } from './openapi-metadata.js';

const WEBHOOK_ID = { type: 'string', description: '`wh_` and 26 characters.', example: 'wh_01M8M6ZGJY1JWE3GGJVW12DEZ8' } as const;

/** An endpoint as the API shows it (`WebhookEndpointView`): never its secret. */
export class WebhookEndpoint {
  @DocProperty(WEBHOOK_ID)
  id!: string;

  @DocProperty({ type: 'string', example: 'https://your-domain.com/webhook' })
  url!: string;

  @DocProperty({ type: 'array', items: { type: 'string' }, example: ['user.created', 'user.updated'] })
  events!: string[];

  @DocProperty({ type: 'string', nullable: true, example: 'User events webhook' })
  description!: string | null;

  @DocProperty({ type: 'boolean' })
  enabled!: boolean;

  @DocProperty({
    type: 'string',
    nullable: true,
    description:
      'Null while enabled; otherwise "disabled through the API", "endpoint answered 410 Gone" ' +
      'or "failing since <ISO 8601 time> (<N> failed attempts)".',
  })
  disabled_reason!: string | null;

  @DocProperty({ type: 'object', additionalProperties: { type: 'string' }, example: {} })
  metadata!: Record<string, string>;

  @DocProperty({ type: 'string', format: 'date-time' })
  created_at!: string;

  @DocProperty({ type: 'string', format: 'date-time' })
  updated_at!: string;
}

const SECRET = {
  type: 'string',
  description: '`whsec_` and the base64 of 32 random bytes.',
  example: 'whsec_2V8hLXC77s/KoYdldsoVZGSggkYDv0Yyj5f9spl/7Bk=',
} as const;

/** The answer to create: the endpoint, and its secret, shown here and by the secret routes only. */
export class WebhookEndpointWithSecret extends WebhookEndpoint {
  @DocProperty(SECRET)
  secret!: string;
}

export class WebhookEndpointPage {
  @DocProperty({ type: WebhookEndpoint, isArray: true })
  data!: WebhookEndpoint[];

  @DocProperty({ type: 'string', nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
  next_cursor!: string | null;
}

export class WebhookSecret {
  @DocProperty(SECRET)
  secret!: string;
}
