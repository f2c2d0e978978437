import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { killWithThisProcess, stopChild } from './child-lifetime.js';
import { freePort } from './free-port.js';
import { pingRedis } from './redis-ping.js';
import { sleep } from './wait-for.js';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/** The full path of `name` on PATH, or null. */
export function findExecutable(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * A throwaway `redis-server` on a free loopback port, with persistence off so it leaves no files
 * behind. It is a child of this process and dies with it at the latest.
 */
export async function startPrivateRedis(binary: string, readyWithinMs = 5_000): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killWithThisProcess(child);
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const url = `redis://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  const deadline = Date.now() + readyWithinMs;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await pingRedis(url, 250)) return { url, stop };
    await sleep(50);
  }
  await stop();
  throw new Error(`redis-server did not answer on port ${port} within ${readyWithinMs} ms:\n${output.join('')}`);
}
