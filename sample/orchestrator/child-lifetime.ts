import type { ChildProcess } from 'node:child_process';

/**
 * Kills `child` when this process exits, however it exits (an interrupt mid-start included), so a
 * run never leaves a receiver or a redis-server behind. `stop` is the graceful way; this is the net.
 */
export function killWithThisProcess(child: ChildProcess): void {
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/** Asks `child` to stop and waits until it has. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
