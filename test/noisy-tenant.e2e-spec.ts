import { WebhookEndpointService } from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { sleep, waitFor } from './support/wait-for.js';

/**
 * One owner whose thousand endpoints never answer must not stall another owner's deliveries: the
 * worker's slots, the room for claimed deliveries and the queue are shared fairly between owners.
 */
describe('a noisy tenant', () => {
  let black: TestReceiver;
  let healthy: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    black = await TestReceiver.start();
    healthy = await TestReceiver.start();
    black.on('/hang', { hang: true });
    t = await startTestApp({ webhooks: { rateLimit: false, maxEndpointsPerOwner: 1_001 } });
  });

  afterAll(async () => {
    await t.close();
    await black.close();
    await healthy.close();
  });

  it('does not delay another owner’s deliveries while its thousand endpoints hang', async () => {
    const noisy = uniqueOwner('noisy');
    const quiet = uniqueOwner('quiet');
    const endpoints = t.app.get(WebhookEndpointService);
    for (let n = 0; n < 1_000; n++) await endpoints.create(noisy, { url: black.url('/hang'), events: ['*'] });
    await endpoints.create(quiet, { url: healthy.url('/quiet'), events: ['*'] });

    // The quiet owner emits every 250 ms throughout; a second in, the noisy owner's 10,000 deliveries land.
    const emittedAt = new Map<string, number>();
    const quietStream = (async () => {
      for (let n = 0; n < 60; n++) {
        const at = Date.now();
        emittedAt.set((await t.publisher.emit('user.created', { n }, { ownerId: quiet })).id, at);
        await sleep(250);
      }
    })();
    await sleep(1_000);
    for (let n = 0; n < 10; n++) await t.publisher.emit('order.paid', { n }, { ownerId: noisy });
    await quietStream;
    await waitFor('every quiet delivery', () => healthy.at('/quiet').length >= emittedAt.size, 10_000).catch((error) => {
      throw new Error(`${(error as Error).message}: ${healthy.at('/quiet').length} of ${emittedAt.size} arrived`);
    });

    const latencies = healthy
      .at('/quiet')
      .map((request) => request.at - emittedAt.get(request.headers['webhook-id'] as string)!)
      .sort((a, b) => a - b);
    expect(new Set(healthy.at('/quiet').map((request) => request.headers['webhook-id']))).toEqual(new Set(emittedAt.keys()));
    const p99 = latencies[Math.ceil(0.99 * latencies.length) - 1];
    if (process.env.TEST_LOGS) console.log(`quiet owner: p50 ${latencies[Math.ceil(0.5 * latencies.length) - 1]} ms, p99 ${p99} ms; noisy owner: ${black.at('/hang').length} requests`);
    expect(p99).toBeLessThan(1_000);
    // Meanwhile the noisy owner kept its endpoints as busy as their timeouts allow.
    expect(black.at('/hang').length).toBeGreaterThan(100);
  }, 120_000);
});
