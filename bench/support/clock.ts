/**
 * Wall-clock milliseconds with sub-millisecond resolution. Every bench process runs on one host, so
 * a timestamp taken in the emitter and one taken in the receiver are directly comparable.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
