export interface EndpointGateLimits {
  /** Most requests one endpoint may have in flight from this process. */
  maxInFlight: number;
  /** What an endpoint starts with before it has shown it can take more (slow start). */
  initialInFlight: number;
  /** Consecutive failures that open the circuit. */
  failuresToOpen: number;
  /** First back-off once open; doubles with each further failure. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How long a delivery may wait for its endpoint's allowance before it is deferred instead. */
  maxWaitMs: number;
  /** How far a delivery turned away by a busy (not failing) endpoint is deferred. */
  busyDeferMs: number;
  /** A request outstanding this long marks its endpoint as stuck: nobody waits for it any more. */
  stuckAfterMs: number;
  /** The sender's whole-request timeout: by then a stuck request has freed its slot. */
  requestTimeoutMs: number;
}

export const DEFAULT_GATE_LIMITS: Omit<EndpointGateLimits, 'maxInFlight' | 'requestTimeoutMs'> = {
  initialInFlight: 2,
  failuresToOpen: 3,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxWaitMs: 250,
  busyDeferMs: 1_000,
  stuckAfterMs: 500,
};

interface EndpointState {
  inFlight: number;
  /** Start times of the requests in flight, oldest first. */
  started: number[];
  allowance: number;
  consecutiveFailures: number;
  openUntil: number;
  waiting: Array<(admitted: boolean) => void>;
}

/**
 * Keeps one endpoint from hogging a worker. Each endpoint gets an in-flight allowance that starts
 * small and grows by one per success up to `maxInFlight` (so a black-holed endpoint holds only a
 * couple of slots before it shows itself), halves on failure, and after `failuresToOpen` failures in
 * a row the endpoint is shut out for an exponential back-off: its deliveries are deferred rather than
 * attempted, while other endpoints keep the worker. Purely in-process state; each worker learns alone.
 */
export class EndpointGate {
  private readonly states = new Map<string, EndpointState>();

  constructor(
    private readonly limits: EndpointGateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Resolves true when the endpoint may take one more request (the caller must `leave` later), false
   * when it is backing off, stuck, or stayed busy for `maxWaitMs`; then defer the delivery until
   * `retryAt`. The wait is short on purpose: a delivery waiting here holds a place in the worker's
   * budget, and a long wait on one endpoint would hold up the work of every other.
   */
  enter(endpointId: string): Promise<boolean> {
    const state = this.state(endpointId);
    if (this.isOpen(state)) return Promise.resolve(false);
    if (state.inFlight < state.allowance) {
      this.admit(state);
      return Promise.resolve(true);
    }
    if (this.isStuck(state)) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const giveUp = () => {
        // Some of this endpoint's admitted deliveries are still queued for a worker slot: the worker
        // is saturated, not the endpoint, and deferring would only add a round trip through Redis.
        if (state.inFlight > state.started.length && !this.isStuck(state) && !this.isOpen(state)) {
          timer = setTimeout(giveUp, this.limits.maxWaitMs);
          return;
        }
        const index = state.waiting.indexOf(admit);
        if (index >= 0) state.waiting.splice(index, 1);
        resolve(false);
      };
      timer = setTimeout(giveUp, this.limits.maxWaitMs);
      const admit = (admitted: boolean) => {
        clearTimeout(timer);
        resolve(admitted);
      };
      state.waiting.push(admit);
    });
  }

  /** The admitted delivery's request starts now (it may have waited for a worker slot since `enter`). */
  begin(endpointId: string): void {
    this.state(endpointId).started.push(this.now());
  }

  /** Gives the slot back; `none` when nothing was sent, which teaches the gate nothing. */
  leave(endpointId: string, response: 'ok' | 'failed' | 'none', begun = true): void {
    const state = this.state(endpointId);
    state.inFlight--;
    if (begun) state.started.shift(); // which request ended is unknown; the oldest is the one that matters
    if (response === 'ok') {
      state.consecutiveFailures = 0;
      state.allowance = Math.min(this.limits.maxInFlight, state.allowance + 1);
    } else if (response === 'failed') {
      state.consecutiveFailures++;
      state.allowance = Math.max(1, Math.floor(state.allowance / 2));
      if (state.consecutiveFailures >= this.limits.failuresToOpen) {
        const doublings = state.consecutiveFailures - this.limits.failuresToOpen;
        const backoff = Math.min(this.limits.maxBackoffMs, this.limits.baseBackoffMs * 2 ** Math.min(doublings, 20));
        state.openUntil = this.now() + backoff;
      }
    }
    this.admitWaiting(endpointId, state);
  }

  /**
   * When a delivery the gate turned away should be tried again: when the back-off ends, when a stuck
   * request must have timed out, or shortly for an endpoint that is merely busy.
   */
  retryAt(endpointId: string): number {
    const now = this.now();
    const state = this.states.get(endpointId);
    if (!state) return now + this.limits.busyDeferMs;
    if (state.openUntil > now) return state.openUntil;
    if (this.isStuck(state)) return Math.max(now + this.limits.busyDeferMs, state.started[0] + this.limits.requestTimeoutMs);
    return now + this.limits.busyDeferMs;
  }

  private admitWaiting(endpointId: string, state: EndpointState): void {
    if (this.isOpen(state)) {
      for (const resolve of state.waiting.splice(0)) resolve(false);
    } else {
      while (state.waiting.length > 0 && state.inFlight < state.allowance) {
        this.admit(state);
        state.waiting.shift()!(true);
      }
    }
    if (state.inFlight === 0 && state.waiting.length === 0 && state.consecutiveFailures === 0) {
      this.states.delete(endpointId); // a healthy idle endpoint needs no memory; it slow-starts again
    }
  }

  private admit(state: EndpointState): void {
    state.inFlight++;
  }

  private isStuck(state: EndpointState): boolean {
    return state.started.length > 0 && this.now() - state.started[0] >= this.limits.stuckAfterMs;
  }

  private isOpen(state: EndpointState): boolean {
    return state.openUntil > this.now();
  }

  private state(endpointId: string): EndpointState {
    let state = this.states.get(endpointId);
    if (!state) {
      const allowance = Math.min(this.limits.initialInFlight, this.limits.maxInFlight);
      state = { inFlight: 0, started: [], allowance, consecutiveFailures: 0, openUntil: 0, waiting: [] };
      this.states.set(endpointId, state);
    }
    return state;
  }
}
