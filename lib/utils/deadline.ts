/**
 * Settles with `work`, or with `onTimeout` once `ms` have passed, whichever comes first; the timer
 * is cleared either way so it never keeps a process alive. A rejection of `work` still rejects.
 */
export async function withinDeadline<T, F>(work: Promise<T>, ms: number, onTimeout: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
