/**
 * The worker's request slots, shared fairly between owners. Waiting requests queue per owner and
 * owners take turns as slots free up, so one owner's backlog never stands in front of another's.
 * While more than one owner has been active recently, a few slots are kept for owners holding few:
 * an owner whose receivers all hang would otherwise hold every slot, and the next owner's request
 * would wait for one of those to time out. A single-tenant host keeps every slot for itself.
 */
export class FairSlots {
  private active = 0;
  private readonly held = new Map<string, number>();
  /** Waiting requests by owner; the map's order is the order owners take turns in. */
  private readonly queues = new Map<string, Array<() => void>>();
  private lastOwner: string | null = null;
  /** When an owner asked for a slot right after a different one. */
  private mixedAt = -Infinity;

  constructor(
    private readonly limit: number,
    /** Slots kept for owners holding fewer than this many, while several owners are active. */
    private readonly reserve = Math.max(1, Math.ceil(limit / 10)),
    /** How long the reserve stays after two owners asked for slots one after the other. */
    private readonly activeForMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(owner: string): Promise<void> {
    if (owner !== this.lastOwner) {
      if (this.lastOwner !== null) this.mixedAt = this.now();
      this.lastOwner = owner;
    }
    if (!this.queues.has(owner) && this.mayTake(owner)) {
      this.take(owner);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.queues.get(owner) ?? [];
      queue.push(resolve);
      this.queues.set(owner, queue);
    });
  }

  release(owner: string): void {
    const count = (this.held.get(owner) ?? 1) - 1;
    if (count > 0) this.held.set(owner, count);
    else this.held.delete(owner);
    this.active--;
    this.grant();
  }

  /** Slots `owner` holds now. */
  heldBy(owner: string): number {
    return this.held.get(owner) ?? 0;
  }

  /** Hands free slots to waiting owners, one per owner per turn. */
  private grant(): void {
    let granted = true;
    while (granted && this.active < this.limit) {
      granted = false;
      for (const [owner, queue] of this.queues) {
        if (!this.mayTake(owner)) continue;
        this.queues.delete(owner);
        const next = queue.shift()!;
        if (queue.length > 0) this.queues.set(owner, queue); // to the back of the turn order
        this.take(owner);
        next();
        granted = true;
        break;
      }
    }
  }

  private take(owner: string): void {
    this.active++;
    this.held.set(owner, this.heldBy(owner) + 1);
  }

  private mayTake(owner: string): boolean {
    const free = this.limit - this.active;
    if (free <= 0) return false;
    return free > this.reserve || this.heldBy(owner) < this.reserve || !this.othersActive(owner);
  }

  private othersActive(owner: string): boolean {
    if (this.now() - this.mixedAt < this.activeForMs) return true;
    return this.held.size > (this.held.has(owner) ? 1 : 0) || this.queues.size > (this.queues.has(owner) ? 1 : 0);
  }
}
