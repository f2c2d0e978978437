import { WebhookReceiver } from './webhook-receiver.js';

/**
 * Runs the receiver on its own:
 *
 *     PORT=4000 WEBHOOK_SECRET=whsec_... node sample/dist/receiver/main.js
 *
 * then register `http://127.0.0.1:4000/webhook` as the endpoint URL.
 */
async function main(): Promise<void> {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) throw new Error('WEBHOOK_SECRET is required: the secret POST /v1/webhooks returned');
  const port = Number(process.env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got ${process.env.PORT}`);

  const receiver = await WebhookReceiver.start({
    port,
    host: process.env.HOST ?? '127.0.0.1',
    secret,
    path: '/webhook',
    log: (line) => console.log(line),
  });
  console.log(`listening on ${receiver.url} (GET /results lists what arrived)`);

  const stop = () => void receiver.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
