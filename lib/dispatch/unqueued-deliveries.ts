/** A committed delivery of `owner` that is due at `dueAt` (epoch ms) and still needs a Redis job. */
export interface UnqueuedDelivery {
  id: string;
  owner?: string;
  dueAt: number;
}

/**
 * Deliveries committed while Redis could not take them, kept in memory until it can, oldest first.
 * Bounded: what does not fit is left to the reconciler's stale sweep, which finds every pending row
 * in the database anyway; this only makes recovery prompt once Redis is back.
 */
export class UnqueuedDeliveries {
  private readonly held = new Map<string, UnqueuedDelivery>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.held.size;
  }

  /** Keeps as many as fit and returns how many did not. */
  hold(items: readonly UnqueuedDelivery[]): number {
    let refused = 0;
    for (const item of items) {
      if (this.held.has(item.id) || this.held.size < this.capacity) this.held.set(item.id, item);
      else refused++;
    }
    return refused;
  }

  /** Removes and returns up to `max` of the oldest held. */
  take(max: number): UnqueuedDelivery[] {
    const taken: UnqueuedDelivery[] = [];
    for (const item of this.held.values()) {
      if (taken.length >= max) break;
      taken.push(item);
    }
    for (const { id } of taken) this.held.delete(id);
    return taken;
  }
}
