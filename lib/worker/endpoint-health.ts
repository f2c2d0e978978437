import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { OperationalHooks } from './operational-hooks.js';
import { WebhooksTelemetry } from '../telemetry/webhooks-telemetry.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';

/** One attempt's answer, as far as its endpoint's health goes. */
export interface EndpointObservation {
  /** The endpoint as loaded when the delivery was claimed. */
  endpoint: WebhookEndpointEntity;
  at: number;
  ok: boolean;
  /** The endpoint answered 410 Gone. */
  gone: boolean;
}

export const GONE_REASON = 'endpoint answered 410 Gone';

/**
 * Keeps each endpoint's failing streak (`failing_since`, `failure_count`) from attempt outcomes, a
 * batch at a time, and disables endpoints: at once on 410, or after failing without a single success
 * for `disable.afterFailingForMs` and at least `disable.minFailures` attempts, so one bad night or
 * one poisoned event does not switch a customer off.
 */
@Injectable()
export class EndpointHealth {
  private readonly logger = new Logger('WebhookEndpointHealth');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly hooks: OperationalHooks,
    private readonly telemetry: WebhooksTelemetry,
  ) {}

  async observe(observations: readonly EndpointObservation[]): Promise<void> {
    const byEndpoint = new Map<string, EndpointObservation[]>();
    for (const observation of observations) {
      const list = byEndpoint.get(observation.endpoint.id) ?? [];
      list.push(observation);
      byEndpoint.set(observation.endpoint.id, list);
    }
    for (const list of byEndpoint.values()) await this.observeEndpoint(list);
  }

  private async observeEndpoint(list: EndpointObservation[]): Promise<void> {
    const { endpoint } = list[0];
    const lastOk = list.map((o) => o.ok).lastIndexOf(true);
    const trailing = list.slice(lastOk + 1);
    if (lastOk >= 0) await this.recordRecovery(endpoint, trailing);
    else await this.recordFailures(endpoint, trailing);
    if (list.some((o) => o.gone)) return this.disable(endpoint, GONE_REASON);
    if (trailing.length > 0) {
      const streakStart = lastOk >= 0 ? trailing[0].at : (endpoint.failingSince ?? trailing[0].at);
      await this.disableIfFailingTooLong(endpoint, streakStart, trailing[trailing.length - 1].at);
    }
  }

  /**
   * After a success the streak restarts from the failures that followed it. Claims carry a snapshot
   * of the endpoint, so many batches may still believe it is failing after it recovered: the reset
   * is conditional, and only the batch that performs it tells the host.
   */
  private async recordRecovery(endpoint: WebhookEndpointEntity, trailing: EndpointObservation[]): Promise<void> {
    if (trailing.length > 0) {
      await this.repository.update({ id: endpoint.id }, { failureCount: trailing.length, failingSince: trailing[0].at });
      return;
    }
    if (endpoint.failingSince === null && endpoint.failureCount === 0) return;
    const result = await this.dataSource
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({ failureCount: 0, failingSince: null })
      .where('id = :id AND (failing_since IS NOT NULL OR failure_count > 0)', { id: endpoint.id })
      .execute();
    if (result.affected !== 0 && endpoint.failingSince !== null) {
      this.hooks.notify('onEndpointRecovered', {
        endpointId: endpoint.id,
        ownerId: endpoint.ownerId,
        failingSince: new Date(endpoint.failingSince),
      });
    }
  }

  private async recordFailures(endpoint: WebhookEndpointEntity, failures: EndpointObservation[]): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({
        failureCount: () => `failure_count + ${failures.length}`,
        failingSince: () => `COALESCE(failing_since, ${Math.trunc(failures[0].at)})`,
      })
      .where('id = :id', { id: endpoint.id })
      .execute();
  }

  /**
   * The streak is measured up to the latest failed attempt, not to whenever its outcome is written.
   * The claim-time snapshot screens out the common case; only a candidate is read back exactly.
   */
  private async disableIfFailingTooLong(endpoint: WebhookEndpointEntity, streakStart: number, lastFailureAt: number): Promise<void> {
    const rules = this.options.disable;
    if (lastFailureAt - streakStart < rules.afterFailingForMs) return;
    const current = await this.repository.findOne({
      select: { id: true, failingSince: true, failureCount: true },
      where: { id: endpoint.id },
    });
    if (!current || current.failingSince === null) return;
    if (lastFailureAt - current.failingSince < rules.afterFailingForMs || current.failureCount < rules.minFailures) return;
    await this.disable(endpoint, `failing since ${new Date(current.failingSince).toISOString()} (${current.failureCount} failed attempts)`);
  }

  private async disable(endpoint: WebhookEndpointEntity, reason: string): Promise<void> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({ enabled: false, disabledReason: reason, updatedAt: Date.now() })
      .where('id = :id AND enabled = :enabled', { id: endpoint.id, enabled: true })
      .execute();
    if (result.affected === 0) return;
    this.logger.warn(`Endpoint ${endpoint.id} was disabled: ${reason}`);
    this.telemetry.endpointDisabled(reason === GONE_REASON ? 'gone' : 'failing');
    this.hooks.notify('onEndpointDisabled', { endpointId: endpoint.id, ownerId: endpoint.ownerId, reason });
  }

  private get repository() {
    return this.dataSource.getRepository(WebhookEndpointEntity);
  }
}
