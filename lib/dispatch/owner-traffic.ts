/** How long an owner's deliveries are remembered when telling light owners from heavy ones. */
const WINDOW_MS = 10_000;

/**
 * How many deliveries each owner queued from this process lately, to tell light owners from heavy
 * ones. A light owner's jobs go ahead of the rest in the queue: a customer sending a few events
 * should not wait behind another's ten thousand. Heavy owners keep first-in, first-out order among
 * themselves, so a single busy tenant is queued exactly as without owners.
 */
export class OwnerTraffic {
  private readonly counts = new Map<string, { since: number; count: number }>();
  private pruneAt = 0;

  constructor(
    /** Deliveries per window up to which an owner counts as light. */
    private readonly lightLimit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts `count` more deliveries of `owner` and says whether the owner is still light. */
  add(owner: string, count: number): boolean {
    const now = this.now();
    this.prune(now);
    let entry = this.counts.get(owner);
    if (!entry || now - entry.since > WINDOW_MS) {
      entry = { since: now, count: 0 };
      this.counts.set(owner, entry);
    }
    entry.count += count;
    return entry.count <= this.lightLimit;
  }

  /** Forgets owners not seen for a window, at most once per window, so the map stays small. */
  private prune(now: number): void {
    if (now < this.pruneAt) return;
    this.pruneAt = now + WINDOW_MS;
    for (const [owner, entry] of this.counts) if (now - entry.since > WINDOW_MS) this.counts.delete(owner);
  }
}
