/** One caller's item in a group, with the caller's promise to settle. Settling twice is ignored. */
export interface GroupMember<T, R> {
  readonly item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export interface GroupCommitLimits<T> {
  /** Largest group, by total weight; a single heavier item still forms a group of its own. */
  maxWeight: number;
  /** An item's weight (1 when left out). */
  weight?: (item: T) => number;
}

/**
 * Group commit: callers arriving while a write is in flight share the next one, so a thousand
 * concurrent callers cost a handful of round trips, while a lone caller is served at once (after
 * the current turn of the event loop, so that callers of the same turn share it).
 *
 * `commit` writes one group and settles its members: before it returns, or later (a member may wait
 * for more than the write, such as a Redis hand-over, without holding up the next group). If it
 * throws, the members it left unsettled are rejected with that error.
 */
export class GroupCommit<T, R = void> {
  private waiting: Array<GroupMember<T, R>> = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly commit: (group: Array<GroupMember<T, R>>) => Promise<void>,
    private readonly limits: GroupCommitLimits<T>,
  ) {}

  /** Items waiting for a group, not counting the group being written. */
  get size(): number {
    return this.waiting.length;
  }

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const once =
        <A>(settle: (value: A) => void) =>
        (value: A) => {
          if (settled) return;
          settled = true;
          settle(value);
        };
      this.waiting.push({ item, resolve: once(resolve), reject: once(reject) });
      this.running ??= this.run();
    });
  }

  /** Resolves once the group being written (if any) is done. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Resolves once everything submitted so far has been written. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.waiting.length > 0) {
        const group = this.take();
        try {
          await this.commit(group);
        } catch (error) {
          for (const member of group) member.reject(error);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private take(): Array<GroupMember<T, R>> {
    const weight = this.limits.weight ?? (() => 1);
    let total = 0;
    let count = 0;
    while (count < this.waiting.length) {
      const next = weight(this.waiting[count].item);
      if (count > 0 && total + next > this.limits.maxWeight) break;
      total += next;
      count++;
    }
    return this.waiting.splice(0, count);
  }
}
