import { EventCatalog, matchesEventType } from './event-catalog.js';

describe('matchesEventType', () => {
  it('selects by exact name, prefix wildcard and *', () => {
    expect(matchesEventType('user.created', 'user.created')).toBe(true);
    expect(matchesEventType('user.created', 'user.updated')).toBe(false);
    expect(matchesEventType('user.*', 'user.created')).toBe(true);
    expect(matchesEventType('user.*', 'users.created')).toBe(false);
    expect(matchesEventType('*', 'order.paid')).toBe(true);
  });

  it('leaves the operational webhook.* types out of *, but not out of webhook.* or their names', () => {
    expect(matchesEventType('*', 'webhook.endpoint.disabled')).toBe(false);
    expect(matchesEventType('webhook.*', 'webhook.endpoint.disabled')).toBe(true);
    expect(matchesEventType('webhook.endpoint.*', 'webhook.endpoint.recovered')).toBe(true);
    expect(matchesEventType('webhook.delivery.exhausted', 'webhook.delivery.exhausted')).toBe(true);
  });
});

describe('EventCatalog', () => {
  const withCatalog = new EventCatalog(['user.created']);
  const withoutCatalog = new EventCatalog(undefined);

  it('lists the host types, then the operational ones', () => {
    expect(withCatalog.list().map((type) => type.name)).toEqual([
      'user.created',
      'webhook.endpoint.disabled',
      'webhook.endpoint.recovered',
      'webhook.delivery.exhausted',
    ]);
    expect(withoutCatalog.list().map((type) => type.name)).toEqual([
      'webhook.endpoint.disabled',
      'webhook.endpoint.recovered',
      'webhook.delivery.exhausted',
    ]);
  });

  it.each([withCatalog, withoutCatalog])('accepts subscriptions to operational types and refuses other webhook.* names (%#)', (catalog) => {
    expect(catalog.explainPattern('webhook.*')).toBeNull();
    expect(catalog.explainPattern('webhook.endpoint.*')).toBeNull();
    expect(catalog.explainPattern('webhook.endpoint.disabled')).toBeNull();
    expect(catalog.explainPattern('webhook.test')).toBe('is not a known event type');
    expect(catalog.explainPattern('webhook.other.*')).toBe('matches no known event type');
  });

  it('never lets the host emit a webhook.* type it did not declare', () => {
    expect(withCatalog.isEmittable('webhook.test')).toBe(false);
    expect(withCatalog.isEmittable('user.created')).toBe(true);
    expect(withoutCatalog.isEmittable('anything.goes')).toBe(true);
  });
});
