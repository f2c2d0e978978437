import { EndpointGate } from './endpoint-gate.js';

describe('EndpointGate', () => {
  let now = 0;
  const gate = (maxWaitMs = 10_000) =>
    new EndpointGate(
      { maxInFlight: 4, initialInFlight: 2, failuresToOpen: 3, baseBackoffMs: 1_000, maxBackoffMs: 8_000, maxWaitMs, busyDeferMs: 500, stuckAfterMs: 2_000, requestTimeoutMs: 5_000 },
      () => now,
    );

  beforeEach(() => {
    now = 1_000_000;
  });

  it('starts an endpoint with a small allowance and grows it with each success', async () => {
    const g = gate();
    expect(await g.enter('a')).toBe(true);
    expect(await g.enter('a')).toBe(true);
    let third = false;
    const waiting = g.enter('a').then((admitted) => (third = admitted));
    await Promise.resolve();
    expect(third).toBe(false);
    g.leave('a', 'ok'); // allowance 3, one slot freed
    await waiting;
    expect(third).toBe(true);
    g.leave('a', 'ok');
    g.leave('a', 'ok');
    expect(await g.enter('b')).toBe(true); // other endpoints are independent
  });

  it('shuts an endpoint out after consecutive failures, with doubling back-off, and reopens it', async () => {
    const g = gate();
    for (let i = 0; i < 3; i++) {
      expect(await g.enter('a')).toBe(true);
      g.leave('a', 'failed');
    }
    expect(await g.enter('a')).toBe(false);
    expect(g.retryAt('a')).toBe(now + 1_000);
    expect(await g.enter('b')).toBe(true);
    now += 1_001;
    expect(await g.enter('a')).toBe(true); // half-open: one probe
    g.leave('a', 'failed');
    expect(g.retryAt('a')).toBe(now + 2_000);
    now += 2_001;
    expect(await g.enter('a')).toBe(true);
    g.leave('a', 'ok');
    expect(await g.enter('a')).toBe(true);
    expect(g.retryAt('a')).toBe(now + 500); // merely busy: a short deferral
  });

  it('turns a delivery away when the endpoint stays busy for maxWaitMs', async () => {
    const g = gate(20);
    await g.enter('a');
    g.begin('a');
    await g.enter('a');
    g.begin('a');
    expect(await g.enter('a')).toBe(false);
    g.leave('a', 'ok');
    expect(await g.enter('a')).toBe(true);
  });

  it('keeps a delivery waiting past maxWaitMs while the endpoint holds admitted deliveries that have not started', async () => {
    const g = gate(20);
    await g.enter('a');
    g.begin('a');
    await g.enter('a'); // admitted, still waiting for a worker slot: the worker is the bottleneck
    let admitted: boolean | undefined;
    const waiting = g.enter('a').then((value) => (admitted = value));
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(admitted).toBeUndefined();
    g.leave('a', 'ok');
    await waiting;
    expect(admitted).toBe(true);
  });

  it('turns away those already waiting when the endpoint is shut out', async () => {
    const g = gate();
    await g.enter('a');
    await g.enter('a');
    const [first, second] = [g.enter('a'), g.enter('a')];
    g.leave('a', 'failed'); // allowance halves to 1, still one in flight: nobody admitted
    g.leave('a', 'failed'); // the first waiter takes the freed slot
    expect(await first).toBe(true);
    g.leave('a', 'failed'); // third failure in a row: shut out
    expect(await second).toBe(false);
  });

  it('does not queue behind an endpoint whose requests are stuck, and defers until they must have timed out', async () => {
    const g = gate();
    const start = now;
    await g.enter('a');
    await g.enter('a');
    g.begin('a');
    g.begin('a');
    now += 2_500; // both requests outstanding for 2.5 s
    expect(await g.enter('a')).toBe(false);
    expect(g.retryAt('a')).toBe(start + 5_000);
    g.leave('a', 'failed');
    g.leave('a', 'failed');
    expect(await g.enter('a')).toBe(true);
  });

  it('never lets a fresh endpoint exceed maxInFlight, even below the slow-start allowance', async () => {
    const g = new EndpointGate(
      { maxInFlight: 1, initialInFlight: 2, failuresToOpen: 3, baseBackoffMs: 1_000, maxBackoffMs: 8_000, maxWaitMs: 10, busyDeferMs: 500, stuckAfterMs: 2_000, requestTimeoutMs: 5_000 },
      () => now,
    );
    expect(await g.enter('a')).toBe(true);
    g.begin('a');
    expect(await g.enter('a')).toBe(false);
  });

  it('does not count time spent waiting for a worker slot as the endpoint being stuck', async () => {
    const g = gate();
    await g.enter('a');
    await g.enter('a');
    now += 10_000; // admitted long ago, but no request has begun
    const third = g.enter('a');
    g.leave('a', 'none', false);
    expect(await third).toBe(true);
  });

  it('caps the back-off', async () => {
    const g = gate();
    for (let i = 0; i < 10; i++) {
      now = g.retryAt('a') + 1;
      await g.enter('a');
      g.leave('a', 'failed');
    }
    expect(g.retryAt('a') - now).toBe(8_000);
  });
});
