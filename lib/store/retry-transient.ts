/**
 * Retries a database write through a brief outage (failover, restart), pausing as `pause` says after
 * each failure (null: give up and throw), so the result of an HTTP attempt that already happened is
 * not thrown away.
 */
export async function retryTransient<T>(work: () => Promise<T>, pause: (failures: number) => number | null): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await work();
    } catch (error) {
      const wait = pause(failures);
      if (wait === null) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
