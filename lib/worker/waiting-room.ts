interface Waiter {
  owner: string;
  count: number;
  admit: (admitted: boolean) => void;
}

/**
 * Claimed deliveries waiting in a worker for their endpoint and a free slot, counted per owner. The
 * room bounds the worker's memory; its fair share keeps one owner's backlog from filling it: each
 * owner may hold the capacity divided by the owners with deliveries waiting (a newcomer counted in),
 * so an owner alone has all of it, and a newcomer never waits behind a room another owner filled.
 * Batches may overshoot a share, so all owners together are held to twice the capacity.
 */
export class WaitingRoom {
  private total = 0;
  private readonly byOwner = new Map<string, number>();
  private waiters: Waiter[] = [];
  private closed = false;
  private lastOwner: string | null = null;
  /** When a batch of one owner came right after another owner's. */
  private mixedAt = -Infinity;

  constructor(
    readonly capacity: number,
    /** How long the room counts as shared after two owners' batches came one after the other. */
    private readonly sharedForMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Deliveries waiting now, all owners together. */
  get size(): number {
    return this.total;
  }

  /** Counts in up to `count` of `owner`'s deliveries, as many as fit now, and returns how many did. */
  grant(owner: string, count: number): number {
    if (this.closed) return 0;
    this.see(owner);
    const granted = Math.max(0, Math.min(count, this.share(owner) - this.held(owner), 2 * this.capacity - this.total));
    if (granted > 0) this.add(owner, granted);
    return granted;
  }

  /**
   * Counts in a whole batch of `owner`'s deliveries (a queue job) once there is room for it. Resolves
   * false instead when the batch should go back to the queue for later: its owner already holds its
   * share while others have deliveries waiting, or no room came within `patienceMs`, or the room closed.
   */
  admit(owner: string, count: number, patienceMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.see(owner);
    if (this.fits(owner)) {
      this.add(owner, count);
      return Promise.resolve(true);
    }
    if (this.othersWaiting(owner)) return Promise.resolve(false);
    // While the room is shared, one owner's batches may hold at most one of the worker's job slots
    // waiting: the others go back at once, so the next owner's job is taken without delay.
    if (this.shared && this.waiters.some((waiter) => waiter.owner === owner)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        owner,
        count,
        admit: (admitted) => {
          clearTimeout(timer);
          resolve(admitted);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve(false);
      }, patienceMs);
      this.waiters.push(waiter);
    });
  }

  leave(owner: string, count = 1): void {
    const left = this.held(owner) - count;
    if (left > 0) this.byOwner.set(owner, left);
    else this.byOwner.delete(owner);
    this.total = Math.max(0, this.total - count);
    this.wake();
  }

  /** Turns every waiting batch away; nothing more is admitted. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.admit(false);
  }

  private see(owner: string): void {
    if (owner === this.lastOwner) return;
    if (this.lastOwner !== null) this.mixedAt = this.now();
    this.lastOwner = owner;
  }

  private get shared(): boolean {
    return this.now() - this.mixedAt < this.sharedForMs;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      if (!this.fits(waiter.owner) && !this.othersWaiting(waiter.owner)) continue;
      this.waiters = this.waiters.filter((other) => other !== waiter);
      const admitted = this.fits(waiter.owner);
      if (admitted) this.add(waiter.owner, waiter.count);
      waiter.admit(admitted);
    }
  }

  private fits(owner: string): boolean {
    return this.held(owner) < this.share(owner) && this.total < 2 * this.capacity;
  }

  private share(owner: string): number {
    const owners = this.byOwner.size + (this.byOwner.has(owner) ? 0 : 1);
    return Math.ceil(this.capacity / owners);
  }

  private othersWaiting(owner: string): boolean {
    return this.byOwner.size > (this.byOwner.has(owner) ? 1 : 0);
  }

  private held(owner: string): number {
    return this.byOwner.get(owner) ?? 0;
  }

  private add(owner: string, count: number): void {
    this.byOwner.set(owner, this.held(owner) + count);
    this.total += count;
  }
}
