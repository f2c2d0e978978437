import { WebhookEndpointEntity } from '../lib/index.js';
import { CapturedLogs } from './support/captured-logs.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/** Test DNS: names that resolve to addresses a webhook must never reach. */
const RECORDS: Record<string, Array<{ address: string; family: number }>> = {
  'loopback.test': [{ address: '127.0.0.1', family: 4 }],
  'loopback-v6.test': [{ address: '::1', family: 6 }],
  'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'private-10.test': [{ address: '10.0.0.5', family: 4 }],
  'private-192.test': [{ address: '192.168.1.20', family: 4 }],
  'private-172.test': [{ address: '172.16.0.1', family: 4 }],
  'cgnat.test': [{ address: '100.64.0.1', family: 4 }],
  'zero.test': [{ address: '0.0.0.0', family: 4 }],
  'ula.test': [{ address: 'fd00::1', family: 6 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
  'public.test': [{ address: '93.184.216.34', family: 4 }],
};

/** What the tenant sees for every refused host name, whether it resolved inward or not at all. */
const REFUSED = 'refused by the network policy: the host name did not resolve to an allowed public address';
/** What registration answers when the module's development switches are off. */
const PRIVATE_REFUSED =
  'url must not point at a private, loopback or link-local address ' +
  '(that needs the WebhooksModule option security.allowPrivateNetworks: true, for development only)';

describe('SSRF guard at send time', () => {
  let receiver: TestReceiver;
  let t: TestApp;
  const logs = new CapturedLogs();

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({
      logger: logs,
      webhooks: {
        security: {
          allowHttp: true,
          allowPrivateNetworks: false,
          resolveHost: async (hostname) => {
            const records = RECORDS[hostname];
            if (!records) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
            return records;
          },
        },
        retry: { schedule: [] },
        delivery: { timeoutMs: 1_000 },
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function attemptTo(url: string, viaDatabase = false) {
    const owner = uniqueOwner();
    const path = `/${owner}`;
    const registered = viaDatabase ? 'https://placeholder.example/hook' : url.replace('{receiver}', `${receiver.port}${path}`);
    const { body } = await t
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: registered, events: ['*'] })
      .expect(201);
    if (viaDatabase) {
      // As if it had been registered while private networks were allowed.
      await t.dataSource
        .getRepository(WebhookEndpointEntity)
        .update({ id: body.id }, { url: url.replace('{receiver}', `${receiver.port}${path}`) });
    }
    await t.publisher.emit('user.created', {}, { ownerId: owner });
    const [delivery] = await waitFor('the failed delivery', async () => {
      const rows = (await t.api(owner).get(`/v1/webhooks/${body.id}/deliveries`).expect(200)).body.data;
      return rows[0]?.status === 'failed' && rows;
    });
    return { delivery, reached: receiver.at(path).length, owner, webhookId: body.id as string };
  }

  const POLICY = 'refused by the network policy';
  /** How the log names an endpoint. */
  const who = (webhookId: string, owner: string) => `endpoint ${webhookId} (owner ${owner})`;
  const policyLines = (webhookId: string) =>
    logs.of('WebhookNetworkPolicy').filter((line) => line.message.startsWith(`endpoint ${webhookId} `));
  const refusedNames = Object.keys(RECORDS).filter((name) => name !== 'public.test');

  it.each(refusedNames)('refuses %s with the generic reason, and logs the detail for the host', async (hostname) => {
    const { delivery, reached, owner, webhookId } = await attemptTo(`http://${hostname}:{receiver}`);
    expect(reached).toBe(0);
    expect(delivery.last_status_code).toBeNull();
    expect(delivery.last_error).toBe(`${REFUSED}; retry schedule exhausted`);
    const lines = await waitFor('the log line', () => policyLines(webhookId).length > 0 && policyLines(webhookId));
    expect(lines).toEqual([{ level: 'warn', context: 'WebhookNetworkPolicy', message: expect.stringMatching(/, not a public address$/) }]);
    expect(lines[0].message).toContain(`${who(webhookId, owner)} ${POLICY}: ${hostname} resolves to `);
  });

  it('tells the tenant the same for a name that does not resolve and one that resolves inward: existence cannot be probed', async () => {
    const inward = await attemptTo('http://private-10.test:{receiver}/internal');
    const missing = await attemptTo('http://no-such-name.test:{receiver}/internal');
    expect(missing.delivery.last_error).toBe(inward.delivery.last_error);
    expect(missing.delivery.last_error).toBe(`${REFUSED}; retry schedule exhausted`);
    for (const { owner, webhookId, delivery } of [inward, missing]) {
      const { attempts } = (await t.api(owner).get(`/v1/webhooks/${webhookId}/deliveries/${delivery.id}`).expect(200)).body;
      const seen = attempts.map((attempt: { error: string; status_code: null }) => [attempt.error, attempt.status_code]);
      expect(seen).toEqual([[`${REFUSED}; retry schedule exhausted`, null]]);
    }
    const lineOf = ({ webhookId }: { webhookId: string }) => waitFor('the log line', () => policyLines(webhookId)[0]);
    expect((await lineOf(inward)).message).toBe(
      `${who(inward.webhookId, inward.owner)} ${POLICY}: private-10.test resolves to 10.0.0.5, not a public address`,
    );
    expect((await lineOf(missing)).message).toBe(
      `${who(missing.webhookId, missing.owner)} ${POLICY}: no-such-name.test did not resolve: getaddrinfo ENOTFOUND no-such-name.test`,
    );
  });

  it('logs one line per endpoint per minute, however often it is refused', async () => {
    const { owner, webhookId } = await attemptTo('http://metadata.test:{receiver}');
    for (let i = 0; i < 3; i++) await t.publisher.emit('user.created', { i }, { ownerId: owner });
    await waitFor('four failed deliveries', async () => {
      const rows = (await t.api(owner).get(`/v1/webhooks/${webhookId}/deliveries?status=failed`).expect(200)).body.data;
      return rows.length === 4;
    });
    expect(policyLines(webhookId)).toHaveLength(1);
    expect(policyLines(webhookId)[0].message).toContain('metadata.test resolves to 169.254.169.254, not a public address');
  });

  it.each([
    ['127.0.0.1', 'http://127.0.0.1:{receiver}'],
    ['127.1', 'http://127.1:{receiver}'],
    ['2130706433', 'http://2130706433:{receiver}'],
    ['0x7f000001', 'http://0x7f000001:{receiver}'],
    ['0.0.0.0', 'http://0.0.0.0:{receiver}'],
    ['[::1]', 'http://[::1]:{receiver}'],
    ['[::ffff:127.0.0.1]', 'http://[::ffff:127.0.0.1]:{receiver}'],
    ['169.254.169.254', 'http://169.254.169.254:{receiver}'],
    ['localhost', 'http://localhost:{receiver}'],
  ])('refuses the literal %s stored under a laxer policy', async (_, url) => {
    const { delivery, reached } = await attemptTo(url, true);
    expect(reached).toBe(0);
    expect(delivery.last_error).toMatch(/^refused to connect to .+not a public address \(security\.allowPrivateNetworks is off\)/);
  });

  it('refuses every private literal at registration with a 400', async () => {
    for (const host of [
      '127.0.0.1',
      '127.1',
      '2130706433',
      '0x7f000001',
      '0.0.0.0',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '169.254.169.254',
      '10.1.1.1',
      '100.64.0.1',
      'localhost',
    ]) {
      const response = await t
        .api(uniqueOwner())
        .post('/v1/webhooks')
        .send({ url: `http://${host}/hook`, events: ['*'] });
      expect([host, response.status, response.body.message]).toEqual([host, 400, [PRIVATE_REFUSED]]);
    }
  });

  it('lets a public address through the guard (the attempt then fails for network reasons only)', async () => {
    const { delivery } = await attemptTo('http://public.test:{receiver}');
    expect(delivery.last_error).not.toMatch(/not a public address|refused by the network policy/);
  });
});
