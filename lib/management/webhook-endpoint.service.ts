import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { EventCatalog } from '../emit/event-catalog.js';
import { WriteTransactions } from '../store/write-transactions.js';
import { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { explainOwnerId } from '../utils/host-identifiers.js';
import { isId, newId } from '../utils/id.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { DEFAULT_PAGE_SIZE, pageNewestFirst, type Page } from '../store/pagination.js';
import { EndpointSecrets } from '../security/endpoint-secrets.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { WebhookConflictError, WebhookNotFoundError, WebhookValidationError } from '../webhooks.errors.js';
import { explainMetadata } from './endpoint-metadata.js';
import { explainEndpointUrl } from '../security/endpoint-url-policy.js';
import { toEndpointView, type WebhookEndpointView } from './webhook-endpoint.view.js';

export interface WebhookEndpointInput {
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean;
  metadata?: Record<string, string>;
}

export type WebhookEndpointPatch = Partial<WebhookEndpointInput>;

/** What creating an endpoint returns: the only time, with rotate and reveal, that the secret is shown. */
export type WebhookEndpointWithSecret = WebhookEndpointView & { secret: string };

export const MAX_EVENTS_PER_ENDPOINT = 100;
export const MAX_DESCRIPTION_LENGTH = 1024;
const DISABLED_BY_OWNER = 'disabled through the API';
/** Concurrent rotations of one endpoint each get a turn; past this many lost races, the caller retries. */
const MAX_ROTATION_ATTEMPTS = 10;

/** Endpoint management, scoped to one owner; the HTTP API is a thin shell over it. */
@Injectable()
export class WebhookEndpointService {
  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly catalog: EventCatalog,
    private readonly secrets: EndpointSecrets,
    private readonly transactions: WriteTransactions,
  ) {}

  /** Creates an endpoint; the only response that carries its secret besides rotate and reveal. */
  async create(ownerId: string, input: WebhookEndpointInput): Promise<WebhookEndpointWithSecret> {
    const ownerProblem = explainOwnerId(ownerId);
    if (ownerProblem) throw new WebhookValidationError([ownerProblem]);
    this.check(input, false);
    const now = Date.now();
    const { secret, stored } = this.secrets.create();
    const endpoint = this.repository.create({
      id: newId('wh', now),
      ownerId,
      url: input.url,
      events: input.events,
      description: input.description ?? null,
      enabled: input.enabled ?? true,
      disabledReason: input.enabled === false ? DISABLED_BY_OWNER : null,
      metadata: input.metadata ?? {},
      secret: stored,
      retiredSecrets: null,
      failingSince: null,
      failureCount: 0,
      createdAt: now,
      updatedAt: now,
    });
    await this.transactions.run(async (manager) => {
      const count = await manager.countBy(WebhookEndpointEntity, { ownerId });
      if (count >= this.options.maxEndpointsPerOwner) {
        throw new WebhookConflictError(
          `this owner already has ${count} webhook endpoints, ` +
            `the most allowed (maxEndpointsPerOwner: ${this.options.maxEndpointsPerOwner}); delete one first`,
        );
      }
      // A copy: TypeORM merges driver defaults back into the inserted object (MariaDB turns `true` into 1).
      await manager.insert(WebhookEndpointEntity, { ...endpoint });
    });
    return { ...toEndpointView(endpoint), secret };
  }

  async list(ownerId: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<WebhookEndpointView>> {
    const query = this.repository.createQueryBuilder('e').where('e.owner_id = :ownerId', { ownerId });
    const { rows, next_cursor } = await pageNewestFirst(query, 'e', options.limit ?? DEFAULT_PAGE_SIZE, options.cursor);
    return { data: rows.map(toEndpointView), next_cursor };
  }

  async get(ownerId: string, id: string): Promise<WebhookEndpointView> {
    return toEndpointView(await this.find(ownerId, id));
  }

  async update(ownerId: string, id: string, patch: WebhookEndpointPatch): Promise<WebhookEndpointView> {
    this.check(patch, true);
    const endpoint = await this.find(ownerId, id);
    if (patch.url !== undefined) endpoint.url = patch.url;
    if (patch.events !== undefined) endpoint.events = patch.events;
    if (patch.description !== undefined) endpoint.description = patch.description;
    if (patch.metadata !== undefined) endpoint.metadata = patch.metadata;
    if (patch.enabled !== undefined && patch.enabled !== endpoint.enabled) {
      endpoint.enabled = patch.enabled;
      endpoint.disabledReason = patch.enabled ? null : DISABLED_BY_OWNER;
      endpoint.failingSince = null;
      endpoint.failureCount = 0;
    }
    endpoint.updatedAt = Math.max(Date.now(), endpoint.updatedAt);
    await this.repository.update(
      { id: endpoint.id, ownerId },
      {
        url: endpoint.url,
        events: endpoint.events,
        description: endpoint.description,
        metadata: endpoint.metadata,
        enabled: endpoint.enabled,
        disabledReason: endpoint.disabledReason,
        failingSince: endpoint.failingSince,
        failureCount: endpoint.failureCount,
        updatedAt: endpoint.updatedAt,
      },
    );
    return toEndpointView(endpoint);
  }

  /** Deletes the endpoint and cancels what was still pending for it, in one transaction. */
  async remove(ownerId: string, id: string): Promise<void> {
    await this.transactions.run(async (manager) => {
      const result = await manager.delete(WebhookEndpointEntity, { id: this.validId(id), ownerId });
      if (!result.affected) throw new WebhookNotFoundError('webhook');
      await cancelPending(manager, id);
    });
  }

  /**
   * Issues a new secret. The one it replaces keeps signing for `signing.rotationOverlapMs`; any
   * secret retired before that stops signing now.
   */
  async rotateSecret(ownerId: string, id: string): Promise<{ secret: string }> {
    const { secret, stored } = this.secrets.create();
    for (let attempt = 1; ; attempt++) {
      const endpoint = await this.find(ownerId, id);
      const now = Date.now();
      // Only if the secret is still the one read: of two rotations at once, one would otherwise hand
      // out a secret that never signs.
      const { affected } = await this.repository.update(
        { id: endpoint.id, ownerId, secret: endpoint.secret },
        { secret: stored, retiredSecrets: this.secrets.retire(endpoint, now), updatedAt: Math.max(now, endpoint.updatedAt) },
      );
      if (affected) return { secret };
      if (attempt === MAX_ROTATION_ATTEMPTS) throw new WebhookConflictError('the secret is being rotated by another request; try again');
    }
  }

  /** Stops the secret replaced by the last rotation from signing now, before its overlap ends. */
  async revokePreviousSecret(ownerId: string, id: string): Promise<void> {
    const endpoint = await this.find(ownerId, id);
    if (!endpoint.retiredSecrets?.length) return;
    const updatedAt = Math.max(Date.now(), endpoint.updatedAt);
    await this.repository.update({ id: endpoint.id, ownerId }, { retiredSecrets: null, updatedAt });
  }

  async revealSecret(ownerId: string, id: string): Promise<{ secret: string }> {
    return { secret: this.secrets.current(await this.find(ownerId, id)) };
  }

  /** The endpoint entity, for the owner only; anything else is "not found". */
  async find(ownerId: string, id: string): Promise<WebhookEndpointEntity> {
    const endpoint = await this.repository.findOne({ where: { id: this.validId(id), ownerId } });
    if (!endpoint) throw new WebhookNotFoundError('webhook');
    return endpoint;
  }

  private validId(id: string): string {
    if (!isId('wh', id)) throw new WebhookNotFoundError('webhook');
    return id;
  }

  private check(input: WebhookEndpointPatch, partial: boolean): void {
    const problems: string[] = [];
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new WebhookValidationError(['body must be a JSON object']);
    if (!partial || input.url !== undefined) {
      const problem = explainEndpointUrl(input.url, this.options.security);
      if (problem) problems.push(problem);
    }
    if (!partial || input.events !== undefined) problems.push(...this.explainEvents(input.events));
    if (input.description !== undefined && input.description !== null) {
      if (typeof input.description !== 'string') problems.push('description must be a string');
      else if (input.description.length > MAX_DESCRIPTION_LENGTH)
        problems.push(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
    }
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean') problems.push('enabled must be true or false');
    if (input.metadata !== undefined) {
      const problem = explainMetadata(input.metadata);
      if (problem) problems.push(problem);
    }
    if (partial && problems.length === 0 && Object.values(input).every((value) => value === undefined)) {
      problems.push('body must set at least one of url, events, description, enabled, metadata');
    }
    if (problems.length > 0) throw new WebhookValidationError(problems);
  }

  private explainEvents(events: unknown): string[] {
    if (!Array.isArray(events)) return ['events must be an array of event types'];
    if (events.length < 1 || events.length > MAX_EVENTS_PER_ENDPOINT) return [`events must list 1-${MAX_EVENTS_PER_ENDPOINT} event types`];
    const problems: string[] = [];
    events.forEach((pattern, index) => {
      const problem = this.catalog.explainPattern(pattern);
      if (problem) problems.push(`events[${index}] ${JSON.stringify(pattern)} ${problem}`);
    });
    if (new Set(events).size !== events.length) problems.push('events must not repeat an event type');
    return problems;
  }

  private get repository() {
    return this.dataSource.getRepository(WebhookEndpointEntity);
  }
}

async function cancelPending(manager: EntityManager, endpointId: string): Promise<void> {
  const now = Date.now();
  await manager
    .createQueryBuilder()
    .update(WebhookDeliveryEntity)
    .set({ status: 'cancelled', nextAttemptAt: null, completedAt: now, updatedAt: now, lastError: 'endpoint deleted' })
    .where('endpoint_id = :endpointId AND status = :pending', { endpointId, pending: 'pending' })
    .execute();
}
