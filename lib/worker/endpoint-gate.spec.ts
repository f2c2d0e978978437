import { seededRandom } from '../../test/support/seeded-random.js';
import { EndpointGate, type EndpointGateLimits, type GateAdmission, type GateClock, type GateTicket } from './endpoint-gate.js';

const LIMITS: EndpointGateLimits = {
  maxInFlight: 4,
  initialInFlight: 2,
  failuresToOpen: 3,
  baseBackoffMs: 1_000,
  maxBackoffMs: 8_000,
  maxWaitMs: 10_000,
  busyDeferMs: 500,
  stuckAfterMs: 2_000,
  requestTimeoutMs: 5_000,
};

describe('EndpointGate', () => {
  let now = 0;
  /** Virtual time for the circuit, real timers for the short waits. */
  const clock: GateClock = {
    now: () => now,
    after: (ms, run) => {
      const timer = setTimeout(run, ms);
      return () => clearTimeout(timer);
    },
  };
  const gate = (limits: Partial<EndpointGateLimits> = {}) => new EndpointGate({ ...LIMITS, ...limits }, clock, () => 0);

  /** Enters and expects a ticket. */
  async function admitted(g: EndpointGate, endpointId = 'a', dueAt = now): Promise<GateTicket> {
    const admission = await g.enter(endpointId, dueAt);
    if (!admission.admitted) throw new Error(`expected ${endpointId} to be admitted, was told to come back at ${admission.retryAt}`);
    return admission.ticket;
  }

  /** Enters and expects a refusal. */
  async function refused(g: EndpointGate, endpointId = 'a', dueAt = now): Promise<Extract<GateAdmission, { admitted: false }>> {
    const admission = await g.enter(endpointId, dueAt);
    if (admission.admitted) throw new Error(`expected ${endpointId} to be refused`);
    return admission;
  }

  /** Admits, begins and ends one request with `response`. */
  async function request(g: EndpointGate, response: 'ok' | 'failed', endpointId = 'a'): Promise<void> {
    const ticket = await admitted(g, endpointId);
    g.begin(ticket);
    g.leave(ticket, response, 'HTTP 500');
  }

  beforeEach(() => {
    now = 1_000_000;
  });

  it('starts an endpoint with a small allowance and grows it with each success', async () => {
    const g = gate();
    const first = await admitted(g);
    await admitted(g);
    let third: GateAdmission | undefined;
    const waiting = g.enter('a', now).then((admission) => (third = admission));
    await Promise.resolve();
    expect(third).toBeUndefined();
    g.leave(first, 'ok'); // allowance 3, one slot freed
    await waiting;
    expect(third?.admitted).toBe(true);
    await admitted(g, 'b'); // other endpoints are independent
  });

  it('opens after consecutive failures, probes once the back-off ends, and closes on the probe’s success', async () => {
    const g = gate();
    for (let i = 0; i < 3; i++) await request(g, 'failed');
    expect(g.inspect('a')).toMatchObject({ mode: 'open', openUntil: now + 1_000, backoffMs: 1_000 });
    expect((await refused(g)).retryAt).toBe(now + 1_000); // the first deferred delivery comes back first
    await admitted(g, 'b');
    now += 1_000;
    expect(g.inspect('a').mode).toBe('half-open');
    const probe = await admitted(g);
    expect(probe.probe).toBe(true);
    g.begin(probe);
    g.leave(probe, 'ok');
    expect(g.inspect('a')).toMatchObject({ mode: 'closed', allowance: 2 });
  });

  it('doubles the back-off only when a probe fails, up to the maximum', async () => {
    const g = gate();
    for (let i = 0; i < 3; i++) await request(g, 'failed');
    const backoffs: number[] = [];
    for (let i = 0; i < 6; i++) {
      now = g.inspect('a').openUntil;
      await request(g, 'failed'); // the probe
      backoffs.push(g.inspect('a').backoffMs);
    }
    expect(backoffs).toEqual([2_000, 4_000, 8_000, 8_000, 8_000, 8_000]);
  });

  it('ignores answers to requests that were already in flight when the circuit opened', async () => {
    const g = gate({ maxInFlight: 10, initialInFlight: 10 });
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await admitted(g));
    tickets.forEach((ticket) => g.begin(ticket));
    now += 500; // ten overlapping requests time out together
    for (const ticket of tickets) g.leave(ticket, 'failed', 'timed out');
    expect(g.inspect('a')).toMatchObject({ mode: 'open', backoffMs: 1_000, openUntil: now + 1_000 });
  });

  it('halves the allowance once per round of requests, not once per failure', async () => {
    const g = gate({ maxInFlight: 8, initialInFlight: 8, failuresToOpen: 100 });
    const round = [];
    for (let i = 0; i < 8; i++) round.push(await admitted(g));
    round.forEach((ticket) => g.begin(ticket));
    now += 10;
    for (const ticket of round) g.leave(ticket, 'failed');
    expect(g.inspect('a').allowance).toBe(4);
    now += 10;
    await request(g, 'failed'); // sent after the decrease: a new round
    expect(g.inspect('a').allowance).toBe(2);
  });

  it('closes on any success, even one sent before the circuit opened', async () => {
    const g = gate({ initialInFlight: 4, failuresToOpen: 2 });
    const early = await admitted(g);
    g.begin(early);
    for (let i = 0; i < 2; i++) await request(g, 'failed');
    expect(g.inspect('a').mode).toBe('open');
    g.leave(early, 'ok');
    expect(g.inspect('a').mode).toBe('closed');
  });

  it('lets deliveries wait for the probe’s answer and admits them when it succeeds', async () => {
    const g = gate();
    for (let i = 0; i < 3; i++) await request(g, 'failed');
    now += 1_000;
    const probe = await admitted(g);
    g.begin(probe);
    const waiting = g.enter('a', now);
    g.leave(probe, 'ok');
    expect((await waiting).admitted).toBe(true);
  });

  it('charges a failed probe to the deliveries that were due before it failed, and only to those', async () => {
    const g = gate();
    for (let i = 0; i < 3; i++) await request(g, 'failed');
    const dueBefore = now;
    now += 1_000;
    const probe = await admitted(g);
    g.begin(probe);
    const waiting = g.enter('a', dueBefore);
    now += 5_000;
    g.leave(probe, 'failed', 'timed out after 5000 ms');
    expect(await waiting).toEqual({ admitted: false, retryAt: now, failedProbe: { at: now, error: 'timed out after 5000 ms' } });
    expect((await refused(g, 'a', now + 1)).failedProbe).toBeNull(); // due after the failure: deferred, not charged
  });

  it('spreads a deferred backlog after the back-off instead of returning it at once', async () => {
    const g = gate();
    await request(g, 'ok'); // an answer in 0 ms sets the pace
    for (let i = 0; i < 3; i++) await request(g, 'failed');
    const returns = [];
    for (let i = 0; i < 5; i++) returns.push((await refused(g)).retryAt - g.inspect('a').openUntil);
    expect(returns[0]).toBe(0);
    for (let i = 1; i < returns.length; i++) expect(returns[i]).toBeGreaterThan(returns[i - 1]);
  });

  it('turns a delivery away when the endpoint stays busy for maxWaitMs', async () => {
    const g = gate({ maxWaitMs: 20 });
    const first = await admitted(g);
    g.begin(first);
    g.begin(await admitted(g));
    expect((await refused(g)).retryAt).toBe(now + 500);
    g.leave(first, 'ok');
    await admitted(g);
  });

  it('keeps a delivery waiting past maxWaitMs while the endpoint holds admitted deliveries that have not started', async () => {
    const g = gate({ maxWaitMs: 20 });
    const first = await admitted(g);
    g.begin(first);
    await admitted(g); // admitted, still waiting for a worker slot: the worker is the bottleneck
    let admission: GateAdmission | undefined;
    const waiting = g.enter('a', now).then((value) => (admission = value));
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(admission).toBeUndefined();
    g.leave(first, 'ok');
    await waiting;
    expect(admission?.admitted).toBe(true);
  });

  it('does not queue behind an endpoint whose requests are stuck, and defers until they must have timed out', async () => {
    const g = gate();
    const start = now;
    g.begin(await admitted(g));
    g.begin(await admitted(g));
    now += 2_500; // stuck: older than stuckAfterMs
    expect((await refused(g)).retryAt).toBe(start + 5_000);
  });

  it('never lets a fresh endpoint exceed maxInFlight, even below the slow-start allowance', async () => {
    const g = gate({ maxInFlight: 1, maxWaitMs: 10 });
    g.begin(await admitted(g));
    await refused(g);
  });

  it('does not count time spent waiting for a worker slot as the endpoint being stuck', async () => {
    const g = gate();
    const first = await admitted(g);
    await admitted(g);
    now += 10_000; // admitted long ago, but no request has begun
    const third = g.enter('a', now);
    g.leave(first, 'none');
    expect((await third).admitted).toBe(true);
  });

  it('forgets a healthy idle endpoint', async () => {
    const g = gate();
    await request(g, 'ok');
    expect(g.inspect('a')).toEqual({ mode: 'closed', openUntil: 0, backoffMs: 0, probeInFlight: false, allowance: 2, inFlight: 0 });
  });
});

/**
 * The whole loop, simulated on a virtual clock: a backlog of deliveries enters the gate; admitted
 * ones answer ok, fail, or hang until the request timeout, drawn from a random sequence; turned-away
 * ones come back at `retryAt`; charged ones come back after a retry delay. Whatever the sequence, the
 * circuit is never open longer than the maximum back-off, once the back-off ends a probe goes out as
 * soon as a delivery is there, the back-off grows only when a probe fails, and every delivery ends.
 */
describe('EndpointGate under random answers', () => {
  const limits: EndpointGateLimits = {
    ...LIMITS,
    maxInFlight: 10,
    failuresToOpen: 10,
    maxBackoffMs: 8_000,
    maxWaitMs: 250,
    stuckAfterMs: 500,
    requestTimeoutMs: 500,
  };

  interface Scenario {
    /** Probability of ok / failed / hang for a request sent at time `t` (ms since the start). */
    answer: (t: number) => { ok: number; failed: number };
  }

  /** Runs one scenario to completion (or 30 simulated minutes) and checks the invariants at every step. */
  async function simulate(seed: number, deliveries: number, scenario: Scenario): Promise<{ succeeded: number; violations: string[] }> {
    const random = seededRandom(`gate-${seed}`);
    let now = 0;
    // Events on the virtual clock: deliveries arriving at the gate, requests ending, the gate's own waits.
    const events: Array<{ at: number; run: () => void; cancelled?: boolean }> = [];
    const schedule = (at: number, run: () => void) => {
      const event = { at, run, cancelled: false };
      events.push(event);
      return event;
    };
    const clock: GateClock = {
      now: () => now,
      after: (ms, run) => {
        const event = schedule(now + ms, run);
        return () => void (event.cancelled = true);
      },
    };
    const g = new EndpointGate(limits, clock, random);
    const violations: string[] = [];
    let succeeded = 0;
    let previousBackoff = 0;
    let probeFailed = false;
    let halfOpenSince: number | null = null;

    const check = (when: string) => {
      const view = g.inspect('e');
      if (view.mode === 'open' && view.openUntil - now > limits.maxBackoffMs)
        violations.push(`${when}: open for ${view.openUntil - now} ms`);
      if (view.backoffMs > previousBackoff && previousBackoff !== 0 && !probeFailed) {
        violations.push(`${when}: back-off grew from ${previousBackoff} to ${view.backoffMs} without a failed probe`);
      }
      previousBackoff = view.backoffMs;
      probeFailed = false;
    };

    const arrive = (dueAt: number) => {
      const before = g.inspect('e');
      void g.enter('e', dueAt).then((admission) => {
        // A delivery arriving while half-open with no probe out must become the probe.
        if (before.mode === 'half-open' && !before.probeInFlight && !admission.admitted)
          violations.push(`t=${now}: half-open, no probe, delivery refused`);
        if (!admission.admitted) {
          if (admission.failedProbe)
            schedule(now + 150, () => arrive(now + 150)); // charged: the next attempt on the schedule
          else schedule(Math.max(admission.retryAt, now + 1), () => arrive(admission.retryAt));
          check(`t=${now} refused`);
          return;
        }
        const { ticket } = admission;
        g.begin(ticket);
        const odds = scenario.answer(now);
        const draw = random();
        const response = draw < odds.ok ? 'ok' : draw < odds.ok + odds.failed ? 'failed' : 'hang';
        const duration = response === 'hang' ? limits.requestTimeoutMs : 1 + Math.floor(random() * 20);
        schedule(now + duration, () => {
          if (ticket.probe && g.inspect('e').probeInFlight && response !== 'ok') probeFailed = true;
          g.leave(ticket, response === 'ok' ? 'ok' : 'failed');
          check(`t=${now} ${response}`);
          if (response === 'ok') succeeded++;
          else schedule(now + 150, () => arrive(now + 150));
        });
      });
    };

    for (let i = 0; i < deliveries; i++) schedule(Math.floor(random() * 1_000), () => arrive(0));
    while (now < 30 * 60_000) {
      const pending = events.filter((event) => !event.cancelled);
      if (pending.length === 0) break;
      pending.sort((a, b) => a.at - b.at);
      const next = pending[0];
      events.splice(events.indexOf(next), 1);
      now = Math.max(now, next.at);
      next.run();
      await new Promise((resolve) => setImmediate(resolve)); // let the gate's promises settle
      const view = g.inspect('e');
      if (view.mode === 'half-open' && !view.probeInFlight) halfOpenSince ??= now;
      else halfOpenSince = null;
      // No state may leave the endpoint neither probed nor closed for longer than the maximum back-off.
      if (halfOpenSince !== null && now - halfOpenSince > limits.maxBackoffMs)
        violations.push(`t=${now}: half-open without a probe since ${halfOpenSince}`);
    }
    return { succeeded, violations };
  }

  const scenarios: Array<[string, Scenario]> = [
    ['30 % hang', { answer: () => ({ ok: 0.7, failed: 0 }) }],
    ['30 % error', { answer: () => ({ ok: 0.7, failed: 0.3 }) }],
    ['mixed 20 % error, 20 % hang', { answer: () => ({ ok: 0.6, failed: 0.2 }) }],
    ['dead (hang) for 20 s, then healthy', { answer: (t) => (t < 20_000 ? { ok: 0, failed: 0 } : { ok: 1, failed: 0 }) }],
    ['dead (error) for 40 s, then healthy', { answer: (t) => (t < 40_000 ? { ok: 0, failed: 1 } : { ok: 1, failed: 0 }) }],
    ['flapping every 3 s', { answer: (t) => (Math.floor(t / 3_000) % 2 === 0 ? { ok: 0.1, failed: 0.5 } : { ok: 0.95, failed: 0 }) }],
  ];

  for (const [name, scenario] of scenarios) {
    it(`keeps its promises with ${name} (20 random runs)`, async () => {
      for (let seed = 1; seed <= 20; seed++) {
        const { succeeded, violations } = await simulate(seed, 200, scenario);
        expect({ seed, violations: violations.slice(0, 5) }).toEqual({ seed, violations: [] });
        expect({ seed, succeeded }).toEqual({ seed, succeeded: 200 });
      }
    });
  }
});
