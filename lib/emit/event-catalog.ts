import type { WebhookEventType, WebhookEventTypeDefinition } from '../interfaces/event-type.interface.js';
import { isOperationalEventType, isReservedEventType, OPERATIONAL_EVENT_TYPES } from './operational-event-types.js';

const SEGMENT = '[A-Za-z0-9_-]+';
const EVENT_TYPE_PATTERN = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`);
export const MAX_EVENT_TYPE_LENGTH = 255;

export function isValidEventTypeName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_EVENT_TYPE_LENGTH && EVENT_TYPE_PATTERN.test(name);
}

/** Does a subscription pattern (`*`, `user.*` or an exact name) select `type`? `*` leaves out the module's own `webhook.*` types. */
export function matchesEventType(pattern: string, type: string): boolean {
  if (pattern === '*') return !isReservedEventType(type);
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/**
 * The host's catalog of event types. Without one, any well-formed name is accepted, which suits
 * hosts that do not want to declare types up front.
 */
export class EventCatalog {
  private readonly byName: Map<string, WebhookEventTypeDefinition> | null;

  constructor(eventTypes: readonly WebhookEventType[] | undefined) {
    this.byName = eventTypes ? new Map(eventTypes.map((entry) => toDefinition(entry)).map((d) => [d.name, d])) : null;
  }

  /** The host's types, then the operational types the module sends. */
  list(): WebhookEventTypeDefinition[] {
    return [...(this.byName?.values() ?? []), ...OPERATIONAL_EVENT_TYPES];
  }

  /** Types the host may emit: catalogued ones, or any well-formed name when there is no catalog. */
  isEmittable(type: string): boolean {
    if (!isValidEventTypeName(type)) return false;
    return this.byName === null || this.byName.has(type);
  }

  /** Why a subscription pattern is refused, or null when it is fine. */
  explainPattern(pattern: unknown): string | null {
    if (typeof pattern !== 'string' || pattern.length === 0) return 'must be a non-empty string';
    if (pattern === '*') return null;
    const exact = pattern.endsWith('.*') ? pattern.slice(0, -2) : pattern;
    if (!isValidEventTypeName(exact)) {
      return 'must be "*", an event type such as "user.created", or a prefix wildcard such as "user.*"';
    }
    if (isReservedEventType(pattern === exact ? exact : `${exact}.`)) {
      if (pattern === exact) return isOperationalEventType(pattern) ? null : 'is not a known event type';
      return OPERATIONAL_EVENT_TYPES.some(({ name }) => matchesEventType(pattern, name)) ? null : 'matches no known event type';
    }
    if (this.byName === null) return null;
    if (pattern === exact) return this.byName.has(pattern) ? null : 'is not a known event type';
    const names = [...this.byName.keys()];
    return names.some((name) => matchesEventType(pattern, name)) ? null : 'matches no known event type';
  }
}

function toDefinition(entry: WebhookEventType): WebhookEventTypeDefinition {
  return typeof entry === 'string' ? { name: entry } : entry;
}
