import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseFilters, UseGuards, UsePipes, type Type } from '@nestjs/common';
import { EventCatalog } from '../emit/event-catalog.js';
import { WebhookDeliveryService } from '../management/webhook-delivery.service.js';
import { WebhookEndpointService } from '../management/webhook-endpoint.service.js';
import { isId, type IdPrefix } from '../utils/id.js';
import { WebhookValidationError } from '../webhooks.errors.js';
import { CreateWebhookDto, DeliveryPageQueryDto, PageQueryDto, RecoverWebhookDto, UpdateWebhookDto } from './dto/index.js';
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
  @UseGuards(WebhooksAuthGuard, WebhooksJsonBodyGuard, WebhooksRateLimitGuard)
  @UseFilters(WebhookErrorFilter)
  @UsePipes(WebhooksValidationPipe)
  class WebhooksController {
    constructor(
      readonly endpoints: WebhookEndpointService,
      readonly deliveries: WebhookDeliveryService,
      readonly catalog: EventCatalog,
    ) {}

    // Declared before ':id' so that "event-types" is never taken for a webhook id.
    @Get('event-types')
    @RequiresAccess('read')
    eventTypes() {
      return { data: this.catalog.list().map(({ name, description, schema }) => ({ name, description: description ?? null, schema: schema ?? null })) };
    }

    @Post()
    @RequiresAccess('write')
    create(@OwnerId() ownerId: string, @Body() body: CreateWebhookDto) {
      return this.endpoints.create(ownerId, body);
    }

    @Get()
    @RequiresAccess('read')
    list(@OwnerId() ownerId: string, @Query() query: PageQueryDto) {
      return this.endpoints.list(ownerId, { limit: query.limit, cursor: checkCursor('wh', query.cursor) });
    }

    @Get(':id')
    @RequiresAccess('read')
    get(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.endpoints.get(ownerId, id);
    }

    @Patch(':id')
    @RequiresAccess('write')
    update(@OwnerId() ownerId: string, @Param('id') id: string, @Body() body: UpdateWebhookDto) {
      return this.endpoints.update(ownerId, id, body);
    }

    @Delete(':id')
    @HttpCode(204)
    @RequiresAccess('write')
    async remove(@OwnerId() ownerId: string, @Param('id') id: string): Promise<void> {
      await this.endpoints.remove(ownerId, id);
    }

    @Post(':id/rotate-secret')
    @HttpCode(200)
    @RequiresAccess('write')
    rotateSecret(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.endpoints.rotateSecret(ownerId, id);
    }

    @Post(':id/revoke-previous-secret')
    @HttpCode(204)
    @RequiresAccess('write')
    async revokePreviousSecret(@OwnerId() ownerId: string, @Param('id') id: string): Promise<void> {
      await this.endpoints.revokePreviousSecret(ownerId, id);
    }

    // Reading a secret is as sensitive as changing one.
    @Get(':id/secret')
    @RequiresAccess('write')
    revealSecret(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.endpoints.revealSecret(ownerId, id);
    }

    @Post(':id/test')
    @HttpCode(202)
    @RequiresAccess('write')
    sendTest(@OwnerId() ownerId: string, @Param('id') id: string) {
      return this.deliveries.sendTest(ownerId, id);
    }

    @Post(':id/recover')
    @HttpCode(202)
    @RequiresAccess('write')
    recover(@OwnerId() ownerId: string, @Param('id') id: string, @Body() body: RecoverWebhookDto) {
      return this.deliveries.recover(ownerId, id, new Date(body.since), body.until === undefined ? undefined : new Date(body.until));
    }

    @Get(':id/deliveries')
    @RequiresAccess('read')
    listDeliveries(@OwnerId() ownerId: string, @Param('id') id: string, @Query() query: DeliveryPageQueryDto) {
      return this.deliveries.list(ownerId, id, { status: query.status, limit: query.limit, cursor: checkCursor('dlv', query.cursor) });
    }

    @Get(':id/deliveries/:deliveryId')
    @RequiresAccess('read')
    getDelivery(@OwnerId() ownerId: string, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
      return this.deliveries.get(ownerId, id, deliveryId);
    }

    @Post(':id/deliveries/:deliveryId/retry')
    @HttpCode(202)
    @RequiresAccess('write')
    retryDelivery(@OwnerId() ownerId: string, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
      return this.deliveries.retry(ownerId, id, deliveryId);
    }
  }
  return WebhooksController;
}

function checkCursor(prefix: IdPrefix, cursor: string | undefined): string | undefined {
  if (cursor !== undefined && !isId(prefix, cursor)) throw new WebhookValidationError(['cursor is not valid; pass the next_cursor of the previous page']);
  return cursor;
}
