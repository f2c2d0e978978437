/**
 * Retries a database write a few times with growing pauses, so a brief outage (failover, restart)
 * does not throw away the result of an HTTP attempt that already happened.
 */
export async function retryTransient<T>(work: () => Promise<T>, attempts = 5, firstDelayMs = 200): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** (attempt - 1)));
    }
  }
}
