import { Module, type DynamicModule } from '@nestjs/common';
import { EventCatalog } from '../emit/event-catalog.js';
import { EventStore } from '../emit/event-store.js';
import { WebhookPublisher } from '../emit/webhook-publisher.js';
import { WebhooksTelemetry } from '../telemetry/webhooks-telemetry.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { InMemoryEventStore, TESTING_OPTIONS } from './in-memory-event-store.js';
import { resolveTestingOptions, type WebhooksTestingModuleOptions } from './testing-options.js';
import { WebhooksRecorder } from './webhooks-recorder.js';

/**
 * `WebhooksModule` for a host's tests: the real `WebhookPublisher` (same injection token, same
 * checks, same idempotency) over an in-memory store, with no database, Redis, TypeORM or Bull.
 * `WebhooksRecorder` shows what was emitted; `deliverTo` also POSTs each event, signed, to a receiver.
 */
@Module({})
export class WebhooksTestingModule {
  /** Options are checked here, as `WebhooksModule.forRoot` checks its own: a typo fails at once. */
  static forRoot(options: WebhooksTestingModuleOptions = {}): DynamicModule {
    const resolved = resolveTestingOptions(options);
    return {
      module: WebhooksTestingModule,
      global: resolved.webhooks.isGlobal,
      providers: [
        { provide: TESTING_OPTIONS, useValue: resolved },
        { provide: WEBHOOKS_OPTIONS, useValue: resolved.webhooks },
        { provide: EventCatalog, useValue: new EventCatalog(resolved.webhooks.eventTypes) },
        { provide: EventStore, useClass: InMemoryEventStore },
        // Tests of the host's code record nothing of their own emits in its metrics.
        { provide: WebhooksTelemetry, useValue: new WebhooksTelemetry() },
        WebhooksRecorder,
        WebhookPublisher,
      ],
      exports: [WebhookPublisher, WebhooksRecorder],
    };
  }
}
