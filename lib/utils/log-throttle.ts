/**
 * Lets one log line per key through per window, so that one noisy source (an endpoint whose host
 * is refused on every attempt, an `authenticate` that hangs on every request) cannot flood the
 * host's log. Memory stays bounded: past `maxKeys` recent keys, new keys are kept quiet too.
 */
export class LogThrottle {
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  /** True when a line for `key` may be logged now; it then counts as logged. */
  allow(key: string, now = Date.now()): boolean {
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < this.windowMs) return false;
    if (last === undefined && this.lastLogged.size >= this.maxKeys) {
      this.forgetBefore(now - this.windowMs);
      if (this.lastLogged.size >= this.maxKeys) return false;
    }
    this.lastLogged.set(key, now);
    return true;
  }

  private forgetBefore(cutoff: number): void {
    for (const [key, at] of this.lastLogged) if (at <= cutoff) this.lastLogged.delete(key);
  }
}
