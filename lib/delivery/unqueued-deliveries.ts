/** A committed delivery that is due at `dueAt` (epoch ms) and still needs a Redis job. */
export interface UnqueuedDelivery {
  id: string;
  dueAt: number;
}

/**
 * Deliveries committed while Redis could not take them, kept in memory until it can, oldest first.
 * Bounded: what does not fit is left to the reconciler's stale sweep, which finds every pending row
 * in the database anyway; this only makes recovery prompt once Redis is back.
 */
export class UnqueuedDeliveries {
  private readonly dueAt = new Map<string, number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.dueAt.size;
  }

  /** Keeps as many as fit and returns how many did not. */
  hold(items: readonly UnqueuedDelivery[]): number {
    let refused = 0;
    for (const { id, dueAt } of items) {
      if (this.dueAt.has(id) || this.dueAt.size < this.capacity) this.dueAt.set(id, dueAt);
      else refused++;
    }
    return refused;
  }

  /** Removes and returns up to `max` of the oldest held. */
  take(max: number): UnqueuedDelivery[] {
    const taken: UnqueuedDelivery[] = [];
    for (const [id, dueAt] of this.dueAt) {
      if (taken.length >= max) break;
      taken.push({ id, dueAt });
    }
    for (const { id } of taken) this.dueAt.delete(id);
    return taken;
  }
}
