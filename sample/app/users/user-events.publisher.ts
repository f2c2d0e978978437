import { Injectable } from '@nestjs/common';
import { WebhookPublisher } from 'nestjs-webhooks';
import type { EntityManager } from 'typeorm';
import { userEventData, type UserEventType } from './user-events.js';
import type { User } from './user.entity.js';

/**
 * Publishes user events as webhooks. The account is the webhook owner: its endpoints, and only its,
 * receive the event. Kept apart from `UsersService` so that its tests need no database
 * (`users/user-events.publisher.spec.ts` runs it on `WebhooksTestingModule`).
 */
@Injectable()
export class UserEventsPublisher {
  constructor(private readonly publisher: WebhookPublisher) {}

  /** With `manager`, the event commits with that transaction or not at all. Resolves with the event id. */
  async publish(type: UserEventType, user: User, manager?: EntityManager): Promise<string> {
    const { id } = await this.publisher.emit(type, userEventData(user), { ownerId: user.accountId, manager });
    return id;
  }
}
