import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * The module's own validation, independent of whatever global pipe the host installs: unknown
 * fields are refused, and a body must be a JSON object (not an array, string or null).
 */
export class WebhooksValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false, forbidUnknownValues: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new BadRequestException(['body must be a JSON object']);
    }
    return super.transform(value, metadata);
  }
}
