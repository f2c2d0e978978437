import { Inject, Injectable, Logger } from '@nestjs/common';
import { Not, type DataSource } from 'typeorm';
import type { WebhooksHooks } from '../interfaces/webhooks-options.interface.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { newId } from '../utils/id.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { matchesEventType } from './event-catalog.js';
import { EventStore } from './event-store.js';
import { serializeEvent } from './event-envelope.js';
import {
  DELIVERY_EXHAUSTED_EVENT,
  ENDPOINT_DISABLED_EVENT,
  ENDPOINT_RECOVERED_EVENT,
  isReservedEventType,
} from './operational-event-types.js';

type HookName = keyof WebhooksHooks;
type HookEvent<K extends HookName> = Parameters<NonNullable<WebhooksHooks[K]>>[0];

/** What each host hook becomes for the owner's endpoints: its type, the endpoint it is about, its data. */
interface OperationalEvent {
  type: string;
  ownerId: string;
  aboutEndpointId: string;
  data: Record<string, unknown>;
}

/**
 * Sends the owner-facing side of the host hooks as signed webhooks (`webhook.endpoint.disabled`,
 * `webhook.endpoint.recovered`, `webhook.delivery.exhausted`) to the owner's endpoints that subscribe
 * to them, never to the endpoint the event is about: a failing endpoint would only fail it again.
 * Written after the change it reports is committed, like the hooks; it never throws into delivery.
 */
@Injectable()
export class OperationalWebhooks {
  private readonly logger = new Logger('WebhookOperationalEvents');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly store: EventStore,
  ) {}

  /** Resolves once the event is stored and handed over, or at once when no endpoint wants it. */
  async send<K extends HookName>(name: K, hookEvent: HookEvent<K>): Promise<void> {
    const event = toOperationalEvent(name, hookEvent, new Date());
    if (!event) return;
    try {
      if (!(await this.anySubscriber(event))) return;
      const createdAt = new Date();
      const id = newId('evt', createdAt.getTime());
      const body = serializeEvent(id, event.type, createdAt, event.data, this.store.payloadLimit(this.options.maxPayloadBytes));
      await this.store.write([
        {
          id,
          ownerId: event.ownerId,
          type: event.type,
          body,
          idempotencyKey: null,
          createdAt: createdAt.getTime(),
          traceContext: null,
          excludeEndpointId: event.aboutEndpointId,
        },
      ]);
    } catch (error) {
      this.logger.error(`Could not send ${event.type} about endpoint ${event.aboutEndpointId}: ${(error as Error)?.message ?? error}`);
    }
  }

  /** Most owners subscribe nothing to these; checking first keeps their event table free of events sent to no one. */
  private async anySubscriber(event: OperationalEvent): Promise<boolean> {
    const endpoints = await this.dataSource.getRepository(WebhookEndpointEntity).find({
      select: { id: true, events: true },
      where: { ownerId: event.ownerId, id: Not(event.aboutEndpointId) },
    });
    return endpoints.some((endpoint) => endpoint.events.some((pattern) => matchesEventType(pattern, event.type)));
  }
}

function toOperationalEvent<K extends HookName>(name: K, hookEvent: HookEvent<K>, now: Date): OperationalEvent | null {
  switch (name) {
    case 'onEndpointDisabled': {
      const { endpointId, ownerId, reason } = hookEvent as HookEvent<'onEndpointDisabled'>;
      return {
        type: ENDPOINT_DISABLED_EVENT,
        ownerId,
        aboutEndpointId: endpointId,
        data: { endpoint_id: endpointId, reason, disabled_at: now },
      };
    }
    case 'onEndpointRecovered': {
      const { endpointId, ownerId, failingSince } = hookEvent as HookEvent<'onEndpointRecovered'>;
      const data = { endpoint_id: endpointId, failing_since: failingSince, recovered_at: now };
      return { type: ENDPOINT_RECOVERED_EVENT, ownerId, aboutEndpointId: endpointId, data };
    }
    case 'onDeliveryFailed': {
      const failed = hookEvent as HookEvent<'onDeliveryFailed'>;
      // An operational event that could not be delivered is not reported by another one.
      if (isReservedEventType(failed.eventType)) return null;
      const data = {
        delivery_id: failed.deliveryId,
        endpoint_id: failed.endpointId,
        event_id: failed.eventId,
        event_type: failed.eventType,
        attempts: failed.attempts,
        last_error: failed.lastError,
      };
      return { type: DELIVERY_EXHAUSTED_EVENT, ownerId: failed.ownerId, aboutEndpointId: failed.endpointId, data };
    }
    default:
      return null;
  }
}
