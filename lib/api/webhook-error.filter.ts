import { Catch, ConflictException, NotFoundException, BadRequestException, type ArgumentsHost, type HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { WebhookConflictError, WebhookNotFoundError, WebhookValidationError, type WebhookError } from '../webhooks.errors.js';

/**
 * Turns the services' typed errors into the API's `{ statusCode, error, message }` bodies, through
 * Nest's own filter so it works on Express and Fastify alike.
 */
@Catch(WebhookValidationError, WebhookNotFoundError, WebhookConflictError)
export class WebhookErrorFilter extends BaseExceptionFilter {
  override catch(error: WebhookError, host: ArgumentsHost): void {
    super.catch(toHttpException(error), host);
  }
}

function toHttpException(error: WebhookError): HttpException {
  if (error instanceof WebhookValidationError) return new BadRequestException(error.problems);
  if (error instanceof WebhookNotFoundError) return new NotFoundException(error.message);
  return new ConflictException(error.message);
}
