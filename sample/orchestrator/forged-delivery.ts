import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Posts a well-formed event signed both ways with a secret the receiver does not know. A receiver
 * that answers it with anything but 401 is not really verifying, and the run fails.
 */
export async function sendForgedDelivery(url: string): Promise<{ webhookId: string; status: number }> {
  const wrongSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const webhookId = `evt_forged_${randomBytes(6).toString('hex')}`;
  const body = JSON.stringify({
    id: webhookId,
    type: 'user.deleted',
    created_at: new Date().toISOString(),
    data: { user_id: 'usr_forged', email: 'attacker@example.com' },
  });
  const now = new Date();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(wrongSecret).sign(webhookId, now, body),
      'x-webhook-signature': createHmac('sha256', Buffer.from(wrongSecret, 'utf8')).update(body, 'utf8').digest('hex'),
    },
    body,
  });
  await response.arrayBuffer();
  return { webhookId, status: response.status };
}
