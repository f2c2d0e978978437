import type { EntityManager } from 'typeorm';
import type { PreparedEvent } from './event-writer.js';

/**
 * Where `WebhookPublisher` puts the events it has validated and serialized: the database and the
 * delivery queue in `WebhooksModule`, memory in `WebhooksTestingModule`. The publisher's checks run
 * before either, so a test catches what production would refuse. Kept free of TypeORM and Bull at load
 * time (types only), so that the testing entry can inject the same publisher without them.
 */
export abstract class EventStore {
  /** The largest body this store keeps; the publisher caps payloads at the lower of this and `maxPayloadBytes`. */
  abstract readonly maxBodyBytes: number;

  /** The cap on a serialized event: the host's `maxPayloadBytes`, lowered to what this store keeps. */
  payloadLimit(maxPayloadBytes: number): number {
    return Math.min(maxPayloadBytes, this.maxBodyBytes);
  }

  /** Stores the events (all or nothing) and resolves with their ids in input order; a known idempotency key maps to its first event. */
  abstract write(events: PreparedEvent[], manager?: EntityManager): Promise<string[]>;
}
