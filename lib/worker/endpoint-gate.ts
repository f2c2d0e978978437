export interface EndpointGateLimits {
  /** Most requests one endpoint may have in flight from this process. */
  maxInFlight: number;
  /** What an endpoint starts with before it has shown it can take more (slow start). */
  initialInFlight: number;
  /** Consecutive failed requests, all sent since the circuit last closed, that open it. */
  failuresToOpen: number;
  /** Back-off when the circuit opens; each failed probe doubles it. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How long a delivery may wait for its endpoint's allowance (or its probe's answer) before it is deferred instead. */
  maxWaitMs: number;
  /** How far a delivery turned away by a busy (not failing) endpoint is deferred. */
  busyDeferMs: number;
  /** A request outstanding this long marks its endpoint as stuck: nobody waits for it any more. */
  stuckAfterMs: number;
  /** The sender's whole-request timeout: by then a stuck request or a probe has freed its slot. */
  requestTimeoutMs: number;
}

/** What a new endpoint may have in flight before it has shown it can take more. */
export const INITIAL_IN_FLIGHT = 2;

/** Closed: requests flow. Open: the endpoint is shut out until its back-off ends. Half-open: one probe may go. */
export type CircuitMode = 'closed' | 'open' | 'half-open';

/** One admitted request; give it back to `leave`. */
export interface GateTicket {
  readonly endpointId: string;
  /** Sent to test an endpoint whose back-off ended: its answer decides whether the circuit closes. */
  readonly probe: boolean;
  /** The circuit period it was admitted in: an answer from an earlier period says nothing about this one. */
  readonly period: number;
  readonly admittedAt: number;
  startedAt: number | null;
}

/** A failed probe, shared by every delivery that was due before it and had to wait. */
export interface FailedProbe {
  at: number;
  error: string;
}

export type GateAdmission =
  | { admitted: true; ticket: GateTicket }
  /**
   * Not now: defer the delivery to `retryAt`, or, when `failedProbe` is set, count that probe's
   * failure as this delivery's attempt (it was due before the probe failed), without sending.
   */
  | { admitted: false; retryAt: number; failedProbe: FailedProbe | null };

/** Time as the gate sees it: the system clock, or a virtual one in tests. */
export interface GateClock {
  now(): number;
  /** Runs `run` after `ms`; the returned function cancels it. */
  after(ms: number, run: () => void): () => void;
}

const SYSTEM_CLOCK: GateClock = {
  now: Date.now,
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

/** What the gate knows about an endpoint, for tests and diagnostics. */
export interface CircuitView {
  mode: CircuitMode;
  openUntil: number;
  backoffMs: number;
  probeInFlight: boolean;
  allowance: number;
  inFlight: number;
}

interface EndpointState {
  /** Admitted and not yet left. */
  inFlight: number;
  /** Begun and not yet left. */
  started: Set<GateTicket>;
  allowance: number;
  /** Consecutive failures among requests admitted in the current closed period. */
  failures: number;
  /** Bumped when the circuit opens or closes. */
  period: number;
  /** 0 while closed. */
  openUntil: number;
  backoffMs: number;
  probe: GateTicket | null;
  lastProbeFailure: FailedProbe | null;
  /** Deliveries turned away since the circuit opened; the n-th comes back n spacings later. */
  deferred: number;
  /** When the allowance was last halved: it halves once per round of requests, not once per failure. */
  decreasedAt: number;
  /** Moving average of answered requests' duration, to pace a deferred backlog's return. */
  latencyMs: number;
  waiting: Array<(ticket: GateTicket | null) => void>;
}

/** Assumed duration of an answered request before one has been seen. */
const INITIAL_LATENCY_MS = 50;
/** Bounds on the pause between two deferred deliveries coming back. */
const MIN_SPACING_MS = 1;
const MAX_SPACING_MS = 100;

/**
 * Keeps one endpoint from hogging a worker, and a failing endpoint from being hammered, without ever
 * shutting out one that still answers.
 *
 * While the circuit is closed, each endpoint has an in-flight allowance that starts small and grows
 * by one per success up to `maxInFlight` (a black-holed endpoint holds only a couple of slots before
 * it shows itself) and halves on failure, once per round of requests. After `failuresToOpen`
 * consecutive failures among requests sent since the circuit last closed, it opens for a back-off.
 * Answers to requests that were already in flight when it opened are ignored: a burst of overlapping
 * timeouts is one failure episode, not a reason to back off longer. When the back-off ends the circuit
 * is half-open: exactly one delivery goes as a probe while others wait briefly for its answer. A
 * successful probe (or any success) closes the circuit; only a failed probe doubles the back-off.
 *
 * Deliveries turned away while open cost no attempt and are handed back paced at the endpoint's
 * observed speed, so a deferred backlog returns spread out rather than as one herd. A delivery that
 * was due before a probe failed shares that failure: it is counted as an attempt (not sent), so the
 * deliveries of a dead endpoint still run through their retry schedule and end.
 *
 * Purely in-process state; each worker learns alone.
 */
export class EndpointGate {
  private readonly states = new Map<string, EndpointState>();

  constructor(
    private readonly limits: EndpointGateLimits,
    private readonly clock: GateClock = SYSTEM_CLOCK,
    private readonly random: () => number = Math.random,
  ) {}

  private now(): number {
    return this.clock.now();
  }

  /**
   * Admits one request to the endpoint (the caller must `leave` with the ticket later), or says when
   * to try again. The wait is short on purpose: a delivery waiting here holds a place in the
   * worker's budget, and a long wait on one endpoint would hold up the work of every other.
   * `dueAt` is when the delivery was due: it decides whether a failed probe counts for it.
   */
  enter(endpointId: string, dueAt: number): Promise<GateAdmission> {
    const state = this.state(endpointId);
    const ticket = this.tryAdmit(endpointId, state);
    if (ticket) return Promise.resolve({ admitted: true, ticket });
    if (this.mode(state) === 'open' || (this.mode(state) === 'closed' && this.isStuck(state))) {
      return Promise.resolve(this.refusal(state, dueAt));
    }
    return new Promise((resolve) => {
      let cancel: () => void;
      const giveUp = () => {
        // Some of this endpoint's admitted deliveries are still queued for a worker slot: the worker
        // is saturated, not the endpoint, and deferring would only add a round trip through Redis.
        if (this.mode(state) === 'closed' && state.inFlight > state.started.size && !this.isStuck(state)) {
          cancel = this.clock.after(this.limits.maxWaitMs, giveUp);
          return;
        }
        const index = state.waiting.indexOf(decide);
        if (index >= 0) state.waiting.splice(index, 1);
        resolve(this.refusal(state, dueAt));
      };
      const decide = (admitted: GateTicket | null) => {
        cancel();
        resolve(admitted ? { admitted: true, ticket: admitted } : this.refusal(state, dueAt));
      };
      cancel = this.clock.after(this.limits.maxWaitMs, giveUp);
      state.waiting.push(decide);
    });
  }

  /** The admitted delivery's request starts now (it may have waited for a worker slot since `enter`). */
  begin(ticket: GateTicket): void {
    ticket.startedAt = this.now();
    this.states.get(ticket.endpointId)?.started.add(ticket);
  }

  /** Gives the slot back; `none` when nothing was sent, which teaches the gate nothing. */
  leave(ticket: GateTicket, response: 'ok' | 'failed' | 'none', error = 'request failed'): void {
    const state = this.state(ticket.endpointId);
    state.inFlight = Math.max(0, state.inFlight - 1);
    state.started.delete(ticket);
    const wasProbe = state.probe === ticket;
    if (wasProbe) state.probe = null;
    if (response === 'ok') this.succeeded(state, ticket);
    else if (response === 'failed') this.failed(state, ticket, wasProbe, error);
    this.admitWaiting(ticket.endpointId, state);
  }

  inspect(endpointId: string): CircuitView {
    const state = this.states.get(endpointId);
    if (!state) return { mode: 'closed', openUntil: 0, backoffMs: 0, probeInFlight: false, allowance: this.initialAllowance, inFlight: 0 };
    const { openUntil, backoffMs, allowance, inFlight } = state;
    return { mode: this.mode(state), openUntil, backoffMs, probeInFlight: state.probe !== null, allowance, inFlight };
  }

  private succeeded(state: EndpointState, ticket: GateTicket): void {
    if (ticket.startedAt !== null) state.latencyMs = 0.8 * state.latencyMs + 0.2 * (this.now() - ticket.startedAt);
    if (this.mode(state) !== 'closed') {
      this.close(state);
      return;
    }
    state.failures = 0;
    state.allowance = Math.min(this.limits.maxInFlight, state.allowance + 1);
  }

  private failed(state: EndpointState, ticket: GateTicket, wasProbe: boolean, error: string): void {
    if (wasProbe) {
      state.lastProbeFailure = { at: this.now(), error };
      this.open(state, Math.min(this.limits.maxBackoffMs, Math.max(this.limits.baseBackoffMs, 2 * state.backoffMs)));
      return;
    }
    if (this.mode(state) !== 'closed' || ticket.period !== state.period) return; // sent before the circuit last changed
    state.failures++;
    if (ticket.admittedAt >= state.decreasedAt) {
      state.allowance = Math.max(1, Math.floor(state.allowance / 2));
      state.decreasedAt = this.now();
    }
    if (state.failures >= this.limits.failuresToOpen) this.open(state, this.limits.baseBackoffMs);
  }

  private open(state: EndpointState, backoffMs: number): void {
    state.backoffMs = backoffMs;
    state.openUntil = this.now() + backoffMs;
    state.period++;
    state.failures = 0;
    state.deferred = 0;
    state.probe = null;
  }

  private close(state: EndpointState): void {
    state.openUntil = 0;
    state.backoffMs = 0;
    state.period++;
    state.failures = 0;
    state.deferred = 0;
    state.probe = null;
    state.lastProbeFailure = null;
    state.allowance = this.initialAllowance;
    state.decreasedAt = this.now();
  }

  /** A ticket if the endpoint takes one more request right now. */
  private tryAdmit(endpointId: string, state: EndpointState): GateTicket | null {
    const mode = this.mode(state);
    if (mode === 'closed' && state.inFlight < state.allowance) return this.admit(endpointId, state, false);
    if (mode === 'half-open' && (state.probe === null || this.probeLost(state.probe))) return this.admit(endpointId, state, true);
    return null;
  }

  private admit(endpointId: string, state: EndpointState, probe: boolean): GateTicket {
    const ticket: GateTicket = { endpointId, probe, period: state.period, admittedAt: this.now(), startedAt: null };
    state.inFlight++;
    if (probe) state.probe = ticket;
    return ticket;
  }

  /**
   * A probe should answer within the request timeout; one that has not after twice that (a slot
   * that never came back) must not leave the endpoint neither probed nor closed.
   */
  private probeLost(probe: GateTicket): boolean {
    return this.now() - (probe.startedAt ?? probe.admittedAt) > 2 * this.limits.requestTimeoutMs;
  }

  private admitWaiting(endpointId: string, state: EndpointState): void {
    if (this.mode(state) === 'open') {
      for (const decide of state.waiting.splice(0)) decide(null);
    } else {
      while (state.waiting.length > 0) {
        const ticket = this.tryAdmit(endpointId, state);
        if (!ticket) break;
        state.waiting.shift()!(ticket);
      }
    }
    if (state.inFlight === 0 && state.waiting.length === 0 && state.failures === 0 && state.openUntil === 0) {
      this.states.delete(endpointId); // a healthy idle endpoint needs no memory; it slow-starts again
    }
  }

  private refusal(state: EndpointState, dueAt: number): GateAdmission {
    const failedProbe = state.lastProbeFailure !== null && state.lastProbeFailure.at >= dueAt ? state.lastProbeFailure : null;
    return { admitted: false, retryAt: failedProbe ? this.now() : this.retryAt(state), failedProbe };
  }

  /**
   * When a delivery turned away should come back: after the back-off (or the probe's answer), paced
   * one spacing apart so the backlog arrives about as fast as the endpoint answered; after a stuck
   * request must have timed out; or shortly, for an endpoint that is merely busy.
   */
  private retryAt(state: EndpointState): number {
    const now = this.now();
    const mode = this.mode(state);
    if (mode === 'open') return state.openUntil + this.spread(state);
    if (mode === 'half-open' && state.probe) return (state.probe.startedAt ?? now) + this.limits.requestTimeoutMs + this.spread(state);
    if (this.isStuck(state))
      return Math.max(now + this.limits.busyDeferMs, this.oldestStart(state) + this.limits.requestTimeoutMs) + this.jitter();
    return now + this.limits.busyDeferMs + this.jitter();
  }

  /** The first deferred delivery comes back first, as the probe; the n-th n spacings later. */
  private spread(state: EndpointState): number {
    const n = state.deferred++;
    if (n === 0) return 0;
    const spacing = Math.min(MAX_SPACING_MS, Math.max(MIN_SPACING_MS, state.latencyMs / this.initialAllowance));
    return Math.round((n + this.random()) * spacing) % this.limits.maxBackoffMs;
  }

  /** Spreads the return of deliveries deferred in the same instant. */
  private jitter(): number {
    return Math.round(this.random() * this.limits.busyDeferMs * 0.25);
  }

  private get initialAllowance(): number {
    return Math.min(this.limits.initialInFlight, this.limits.maxInFlight);
  }

  private mode(state: EndpointState): CircuitMode {
    if (state.openUntil === 0) return 'closed';
    return this.now() < state.openUntil ? 'open' : 'half-open';
  }

  private oldestStart(state: EndpointState): number {
    let oldest = Infinity;
    for (const ticket of state.started) oldest = Math.min(oldest, ticket.startedAt ?? Infinity);
    return oldest;
  }

  private isStuck(state: EndpointState): boolean {
    return state.started.size > 0 && this.now() - this.oldestStart(state) >= this.limits.stuckAfterMs;
  }

  private state(endpointId: string): EndpointState {
    let state = this.states.get(endpointId);
    if (!state) {
      state = {
        inFlight: 0,
        started: new Set(),
        allowance: this.initialAllowance,
        failures: 0,
        period: 0,
        openUntil: 0,
        backoffMs: 0,
        probe: null,
        lastProbeFailure: null,
        deferred: 0,
        decreasedAt: 0,
        latencyMs: INITIAL_LATENCY_MS,
        waiting: [],
      };
      this.states.set(endpointId, state);
    }
    return state;
  }
}
