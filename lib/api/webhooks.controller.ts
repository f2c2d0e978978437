import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
  type Type,
} from '@nestjs/common';
import { EventCatalog } from '../emit/event-catalog.js';
import { WebhookDeliveryService } from '../management/webhook-delivery.service.js';
import { WebhookEndpointService } from '../management/webhook-endpoint.service.js';
import { WebhookStatsService } from '../management/webhook-stats.service.js';
import { isId, type IdPrefix } from '../utils/id.js';
import { WebhookValidationError } from '../webhooks.errors.js';
import { CreateWebhookDto, DeliveryPageQueryDto, PageQueryDto, RecoverWebhookDto, StatsQueryDto, UpdateWebhookDto } from './dto/index.js';
import {
  WebhookDelivery,
  WebhookDeliveryDetail,
  WebhookDeliveryPage,
  WebhookRecovery,
  WebhookTestEvent,
} from './openapi/delivery.schema.js';
import { WebhookEndpoint, WebhookEndpointPage, WebhookEndpointWithSecret, WebhookSecret } from './openapi/endpoint.schema.js';
import { WebhookApiError } from './openapi/error.schema.js';
import { WebhookEventTypeList } from './openapi/event-type.schema.js';
import {
  DocController,
  DocOperation,
  DocParameters,
  DocResponses,
  type ParameterDoc,
  type ResponseDoc,
} from './openapi/openapi-metadata.js';
import { WebhookStats } from './openapi/stats.schema.js';
import { OwnerId } from './owner.decorator.js';
import { RequiresAccess } from './webhook-access.js';
import { WebhookErrorFilter } from './webhook-error.filter.js';
import { WebhooksAuthGuard } from './webhooks-auth.guard.js';
import { WebhooksJsonBodyGuard } from './webhooks-json-body.guard.js';
import { WebhooksRateLimitGuard } from './webhooks-rate-limit.guard.js';
import { WebhooksValidationPipe } from './webhooks-validation.pipe.js';

/**
 * The management API under the host's chosen `path`. A class per module instance, because Nest
 * reads the route prefix from the class's decorator.
 */
export function createWebhooksController(path: string): Type<unknown> {
  @Controller(path)
  @DocController('webhooks')
  @DocResponses(COMMON_ERRORS)
  @UseGuards(WebhooksAuthGuard, WebhooksJsonBodyGuard, WebhooksRateLimitGuard)
  @UseFilters(WebhookErrorFilter)
  @UsePipes(WebhooksValidationPipe)
  class WebhooksController {
    constructor(
      readonly endpoints: WebhookEndpointService,
      readonly deliveries: WebhookDeliveryService,
      readonly catalog: EventCatalog,
      readonly stats: WebhookStatsService,
    ) {}

    // Declared before ':id' so that "event-types" is never taken for a webhook id.
    @DocOperation({ operationId: 'listWebhookEventTypes', summary: 'List the event types an endpoint can subscribe to' })
    @DocResponses({ 200: { description: 'The event catalog; empty without one.', type: WebhookEventTypeList } })
    @Get('event-types')
    @RequiresAccess('read')
    eventTypes() {
      return {
        data: this.catalog
          .list()
          .map(({ name, description, schema }) => ({ name, description: description ?? null, schema: schema ?? null })),
      };
    }

    @DocOperation({
      operationId: 'createWebhook',
      summary: 'Create a webhook endpoint',
      description: 'The answer is the only one besides the secret routes that shows the secret.',
    })
    @DocParameters({ in: 'body', type: CreateWebhookDto, required: true })
    @DocResponses({
      201: { description: 'Created, with its secret.', type: WebhookEndpointWithSecret },
      400: INVALID,
      409: error('The owner already has `maxEndpointsPerOwner` endpoints.'),
    })
    @Post()
    @RequiresAccess('write')
    create(@OwnerId() ownerId: string, @Body() body: CreateWebhookDto) {
      return this.endpoints.create(ownerId, body);
    }

    @DocOperation({ operationId: 'listWebhooks', summary: "List the caller's webhook endpoints, newest first" })
    @DocResponses({ 200: { description: 'A page of endpoints.', type: WebhookEndpointPage }, 400: INVALID })
    @Get()
    @RequiresAccess('read')
    list(@OwnerId() ownerId: string, @Query() query: PageQueryDto) {
      return this.endpoints.list(ownerId, { limit: query.limit, cursor: checkCursor('wh', query.cursor) });
    }

    @DocOperation({ operationId: 'getWebhook', summary: 'Get a webhook endpoint' })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 200: { description: 'The endpoint, without its secret.', type: WebhookEndpoint }, 404: NOT_FOUND })
    @Get(':id')
    @RequiresAccess('read')
    get(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.endpoints.get(ownerId, id);
    }

    @DocOperation({
      operationId: 'updateWebhook',
      summary: 'Update a webhook endpoint',
      description: 'Fields left out are kept; `metadata` is replaced as a whole.',
    })
    @DocParameters(WEBHOOK_ID, { in: 'body', type: UpdateWebhookDto, required: true })
    @DocResponses({ 200: { description: 'The updated endpoint.', type: WebhookEndpoint }, 400: INVALID, 404: NOT_FOUND })
    @Patch(':id')
    @RequiresAccess('write')
    update(@OwnerId() ownerId: string, @Param('id') id: string, @Body() body: UpdateWebhookDto) {
      return this.endpoints.update(ownerId, id, body);
    }

    @DocOperation({
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook endpoint',
      description: 'Its pending deliveries are cancelled in the same transaction.',
    })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 204: { description: 'Deleted.' }, 404: NOT_FOUND })
    @Delete(':id')
    @HttpCode(204)
    @RequiresAccess('write')
    async remove(@OwnerId() ownerId: string, @Param('id') id: string): Promise<void> {
      await this.endpoints.remove(ownerId, id);
    }

    @DocOperation({
      operationId: 'rotateWebhookSecret',
      summary: "Rotate the endpoint's signing secret",
      description: 'The replaced secret keeps signing, beside the new one, for `signing.rotationOverlapMs`.',
    })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({
      200: { description: 'The new secret.', type: WebhookSecret },
      404: NOT_FOUND,
      409: error('The rotation kept losing the race to concurrent ones; nothing changed.'),
    })
    @Post(':id/rotate-secret')
    @HttpCode(200)
    @RequiresAccess('write')
    rotateSecret(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.endpoints.rotateSecret(ownerId, id);
    }

    @DocOperation({ operationId: 'revokePreviousWebhookSecret', summary: 'Stop signing with the secret replaced by the last rotation' })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 204: { description: 'Revoked, or nothing to revoke.' }, 404: NOT_FOUND })
    @Post(':id/revoke-previous-secret')
    @HttpCode(204)
    @RequiresAccess('write')
    async revokePreviousSecret(@OwnerId() ownerId: string, @Param('id') id: string): Promise<void> {
      await this.endpoints.revokePreviousSecret(ownerId, id);
    }

    // Reading a secret is as sensitive as changing one.
    @DocOperation({
      operationId: 'getWebhookSecret',
      summary: "Reveal the endpoint's current secret",
      description: 'A write route: it needs `webhooks:write` and counts against the write budget.',
    })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 200: { description: 'The current secret.', type: WebhookSecret }, 404: NOT_FOUND })
    @Get(':id/secret')
    @RequiresAccess('write')
    revealSecret(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.endpoints.revealSecret(ownerId, id);
    }

    @DocOperation({ operationId: 'sendWebhookTest', summary: 'Send a signed `webhook.test` event to this endpoint only' })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 202: { description: 'Queued.', type: WebhookTestEvent }, 404: NOT_FOUND, 409: DISABLED })
    @Post(':id/test')
    @HttpCode(202)
    @RequiresAccess('write')
    sendTest(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.deliveries.sendTest(ownerId, id);
    }

    @DocOperation({
      operationId: 'recoverWebhookDeliveries',
      summary: 'Queue again the failed and skipped deliveries created in a time window',
    })
    @DocParameters(WEBHOOK_ID, { in: 'body', type: RecoverWebhookDto, required: true })
    @DocResponses({ 202: { description: 'Queued.', type: WebhookRecovery }, 400: INVALID, 404: NOT_FOUND, 409: DISABLED })
    @Post(':id/recover')
    @HttpCode(202)
    @RequiresAccess('write')
    recover(@OwnerId() ownerId: string, @Param('id') id: string, @Body() body: RecoverWebhookDto) {
      return this.deliveries.recover(ownerId, id, new Date(body.since), body.until === undefined ? undefined : new Date(body.until));
    }

    @DocOperation({ operationId: 'listWebhookDeliveries', summary: "List the endpoint's deliveries, newest first" })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 200: { description: 'A page of deliveries.', type: WebhookDeliveryPage }, 400: INVALID, 404: NOT_FOUND })
    @Get(':id/deliveries')
    @RequiresAccess('read')
    listDeliveries(@OwnerId() ownerId: string, @Param('id') id: string, @Query() query: DeliveryPageQueryDto) {
      return this.deliveries.list(ownerId, id, { status: query.status, limit: query.limit, cursor: checkCursor('dlv', query.cursor) });
    }

    @DocOperation({ operationId: 'getWebhookDelivery', summary: 'Get a delivery with its payload and every attempt' })
    @DocParameters(WEBHOOK_ID, DELIVERY_ID)
    @DocResponses({
      200: { description: 'The delivery.', type: WebhookDeliveryDetail },
      404: error('No such webhook or delivery for this owner.'),
    })
    @Get(':id/deliveries/:deliveryId')
    @RequiresAccess('read')
    getDelivery(@OwnerId() ownerId: string, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
      return this.deliveries.get(ownerId, id, deliveryId);
    }

    @DocOperation({ operationId: 'retryWebhookDelivery', summary: 'Queue a finished delivery for one more attempt now' })
    @DocParameters(WEBHOOK_ID, DELIVERY_ID)
    @DocResponses({
      202: { description: 'The delivery, pending and due now.', type: WebhookDelivery },
      404: error('No such webhook or delivery for this owner.'),
      409: error('The endpoint is disabled, or the delivery is already pending.'),
    })
    @Post(':id/deliveries/:deliveryId/retry')
    @HttpCode(202)
    @RequiresAccess('write')
    retryDelivery(@OwnerId() ownerId: string, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
      return this.deliveries.retry(ownerId, id, deliveryId);
    }

    @Get(':id/stats')
    @RequiresAccess('read')
    @DocOperation({
      operationId: 'getWebhookStats',
      summary: "The endpoint's attempts over a recent window: counts, success rate, p50/p95 duration, last success and failure",
    })
    @DocParameters(WEBHOOK_ID)
    @DocResponses({ 200: { description: 'The statistics.', type: WebhookStats }, 400: INVALID, 404: NOT_FOUND })
    endpointStats(@OwnerId() ownerId: string, @Param('id') id: string, @Query() query: StatsQueryDto) {
      return this.stats.stats(ownerId, id, query.window);
    }
  }
  return WebhooksController;
}

const error = (description: string): ResponseDoc => ({ description, type: WebhookApiError });
const INVALID = error('The body or the query string is invalid; `message` lists every problem.');
const NOT_FOUND = error("No such webhook for this owner (another owner's id and a malformed id look the same).");
const DISABLED = error('The endpoint is disabled; enable it with PATCH {"enabled": true} first.');

/** What any route can answer, before or besides its own work. */
const COMMON_ERRORS: Record<number, ResponseDoc> = {
  400: error('The body is not valid JSON, or fails validation.'),
  401: {
    ...error('Unknown caller: `authenticate` returned null.'),
    headers: { 'WWW-Authenticate': { description: '`Bearer`', schema: { type: 'string' } } },
  },
  403: error('The caller lacks the `webhooks:read` or `webhooks:write` permission the route needs.'),
  413: error("The body is larger than the host's body parser accepts."),
  415: error('A body was sent without a JSON Content-Type.'),
  429: {
    ...error('The owner spent its read or write budget (`rateLimit`).'),
    headers: { 'Retry-After': { description: 'Seconds until the window resets.', schema: { type: 'integer' } } },
  },
  500: error("An internal error: the database failed, or the host's `authenticate` returned a malformed principal."),
  503: error('`authenticate` did not settle within `authenticateTimeoutMs`.'),
};

const WEBHOOK_ID: ParameterDoc = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The webhook id: `wh_` and 26 characters.',
  schema: { type: 'string' },
};
const DELIVERY_ID: ParameterDoc = {
  name: 'deliveryId',
  in: 'path',
  required: true,
  description: 'The delivery id: `dlv_` and 26 characters.',
  schema: { type: 'string' },
};

function checkCursor(prefix: IdPrefix, cursor: string | undefined): string | undefined {
  if (cursor !== undefined && !isId(prefix, cursor))
    throw new WebhookValidationError(['cursor is not valid; pass the next_cursor of the previous page']);
  return cursor;
}
