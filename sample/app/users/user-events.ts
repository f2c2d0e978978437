import type { User } from './user.entity.js';

/** The event types this app publishes; `WebhooksModule` rejects subscriptions to anything else. */
export const USER_EVENT_TYPES = ['user.created', 'user.updated', 'user.deleted'] as const;

export type UserEventType = (typeof USER_EVENT_TYPES)[number];

/** The `data` of every user event, shaped like the guide's example payload. */
export interface UserEventData {
  user_id: string;
  email: string;
}

export function userEventData(user: User): UserEventData {
  return { user_id: user.id, email: user.email };
}
