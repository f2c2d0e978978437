import { USER_AGENT } from '../webhooks.constants.js';
import { deliveryHeaders } from './delivery-headers.js';

describe('deliveryHeaders', () => {
  it('names the body, the sender, the delivery and the attempt around the signature headers', () => {
    const headers = deliveryHeaders({ id: 'dlv_1', eventType: 'user.created' }, 3, { 'webhook-id': 'evt_1', 'x-webhook-signature': 'ab' });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': 'evt_1',
      'x-webhook-signature': 'ab',
      'x-webhook-event': 'user.created',
      'x-webhook-delivery': 'dlv_1',
      'x-webhook-attempt': '3',
    });
  });
});
