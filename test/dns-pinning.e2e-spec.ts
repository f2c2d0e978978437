import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/** A globally routable address: the guard lets it through. Nothing answers there for the test's port. */
const PUBLIC = '93.184.216.34';
const REFUSED = 'refused by the network policy: the host name did not resolve to an allowed public address';

describe('connection pinning against DNS rebinding', () => {
  let receiver: TestReceiver;
  let t: TestApp;
  /** Every answer the host's resolver gave, per name, in order. */
  const answers = new Map<string, string[]>();
  /** Where sockets to the receiver's port actually tried to connect (`net`'s own connection attempts). */
  const connectedTo: string[] = [];
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    socket.on('connectionAttempt', (ip: string, port: number) => {
      if (port === receiver.port) connectedTo.push(ip);
    });
  };

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    subscribe('net.client.socket', onSocket);
    t = await startTestApp({
      webhooks: {
        security: {
          allowHttp: true,
          allowPrivateNetworks: false,
          // A rebinding name server: a public address, then the loopback address where the receiver listens.
          resolveHost: async (hostname) => {
            const given = answers.get(hostname) ?? [];
            const address = given.length % 2 === 0 ? PUBLIC : '127.0.0.1';
            answers.set(hostname, [...given, address]);
            return [{ address, family: 4 }];
          },
        },
        retry: { schedule: [100] },
        delivery: { timeoutMs: 500 },
      },
    });
  });

  afterAll(async () => {
    unsubscribe('net.client.socket', onSocket);
    await t.close();
    await receiver.close();
  });

  it('connects to the one address it vetted, and a name that rebinds to loopback never reaches the receiver', async () => {
    const owner = uniqueOwner();
    const host = `rebind-${owner}.test`;
    const path = `/pinned-${owner}`;
    const { id } = (
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: `http://${host}:${receiver.port}${path}`, events: ['*'] })
        .expect(201)
    ).body;
    await t.publisher.emit('user.created', {}, { ownerId: owner });

    const [delivery] = await waitFor('the delivery to fail', async () => {
      const rows = (await t.api(owner).get(`/v1/webhooks/${id}/deliveries`).expect(200)).body.data;
      return rows[0]?.status === 'failed' && rows;
    });
    const { attempts } = (await t.api(owner).get(`/v1/webhooks/${id}/deliveries/${delivery.id}`).expect(200)).body;

    // One lookup per attempt: the first answer was vetted and connected to, the second refused.
    expect(answers.get(host)).toEqual([PUBLIC, '127.0.0.1']);
    expect(connectedTo).toEqual([PUBLIC]);
    expect(attempts).toHaveLength(2);
    expect(attempts[0].error).not.toContain('refused');
    expect(attempts[1].error).toBe(`${REFUSED}; retry schedule exhausted`);
    expect(receiver.at(path)).toHaveLength(0);
  });
});
