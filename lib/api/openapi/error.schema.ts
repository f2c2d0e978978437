import { DocProperty, DocSchema } from './openapi-metadata.js';

/** Nest's error body, as the module's guards, pipe and filter answer it (and the host's body parser, without `error`). */
@DocSchema({ description: 'An error. A 400 from validation lists every problem found in `message`.' })
export class WebhookApiError {
  @DocProperty({ type: 'integer', minimum: 400, maximum: 599, example: 404 })
  statusCode!: number;

  @DocProperty({
    type: 'string',
    required: false,
    description: 'The status text; absent when the body parser refused the request.',
    example: 'Not Found',
  })
  error?: string;

  @DocProperty({
    type: 'string',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'What is wrong: one sentence, or for validation errors the list of problems.',
    example: 'webhook not found',
  })
  message!: string | string[];
}
