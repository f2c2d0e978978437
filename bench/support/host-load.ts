import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, wallNow } from './clock.js';

/**
 * CPU accounting from /proc, to tell whether something outside the bench was competing for the CPU
 * while a scenario ran (the bench host may be shared). Processes are sorted into the bench's own node
 * processes, PostgreSQL, Redis and the rest ("foreign"). Only foreign time is reported per kind: bench
 * processes and PostgreSQL backends that exit before the second snapshot are not seen, so their share
 * is host busy minus foreign. Foreign time is a lower bound for the same reason. Linux only.
 */

const TICKS_PER_SECOND = 100;
const BENCH_DIR = join(__dirname, '..');

type Kind = 'bench' | 'postgres' | 'redis' | 'foreign';

export interface CpuSnapshot {
  at: number;
  busyTicks: number;
  processes: Map<number, { kind: Kind; role: string; ticks: number }>;
}

export interface CpuShare {
  seconds: number;
  /** Average cores busy host-wide. */
  hostBusyCores: number;
  /** Cores used by processes other than the bench's, PostgreSQL and Redis (a lower bound). */
  foreignCores: number;
  topForeign: string[];
}

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    const fields = cpu.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    const busyTicks = fields.slice(0, 8).reduce((a, b) => a + b, 0) - idle;
    const processes: CpuSnapshot['processes'] = new Map();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(rest[11]) + Number(rest[12]); // utime + stime
        processes.set(pid, { ...classify(pid, comm), ticks });
      } catch {
        // the process ended while we looked
      }
    }
    return { at: wallNow(), busyTicks, processes };
  } catch {
    return null;
  }
}

/** Whose a process is, and for the bench's own, which one (its script, or an app's `BENCH_APP` role). */
function classify(pid: number, comm: string): { kind: Kind; role: string } {
  if (comm.startsWith('postgres')) return { kind: 'postgres', role: 'postgres' };
  if (comm.startsWith('redis-server')) return { kind: 'redis', role: 'redis' };
  if (pid === process.pid) return { kind: 'bench', role: 'orchestrator' };
  if (comm === 'node' || comm.startsWith('node')) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(BENCH_DIR)) return { kind: 'bench', role: benchRole(pid, cmdline) };
    } catch {
      // gone
    }
  }
  return { kind: 'foreign', role: 'foreign' };
}

function benchRole(pid: number, cmdline: string): string {
  if (cmdline.includes('receiver.js')) return 'receiver';
  if (cmdline.includes('limit.js')) return 'bare loop';
  try {
    const app = /BENCH_APP=(\{[^\0]*\})/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'));
    return app ? (JSON.parse(app[1]) as { role: string }).role : 'other bench';
  } catch {
    return 'other bench';
  }
}

/** Each process's CPU ticks between two snapshots (processes that exited in between are not seen). */
function* tickDeltas(from: CpuSnapshot, to: CpuSnapshot): Generator<[number, { kind: Kind; role: string }, number]> {
  for (const [pid, now] of to.processes) yield [pid, now, now.ticks - (from.processes.get(pid)?.ticks ?? 0)];
}

/**
 * CPU microseconds per unit of work (a delivery) spent by each kind of process between two snapshots:
 * what a delivery costs the receiver, the worker, PostgreSQL, Redis... Processes that exit in between
 * are not seen (short-lived PostgreSQL backends), so the figures are lower bounds.
 */
export function cpuPerUnit(from: CpuSnapshot | null, to: CpuSnapshot | null, units: number): Record<string, number> | null {
  if (!from || !to || units <= 0) return null;
  const byRole: Record<string, number> = {};
  for (const [, { role }, delta] of tickDeltas(from, to)) {
    if (delta > 0) byRole[role] = (byRole[role] ?? 0) + delta;
  }
  const perUnit = (ticks: number) => Math.round(((ticks / TICKS_PER_SECOND) * 1e6) / units);
  const result = Object.fromEntries(Object.entries(byRole).map(([role, ticks]) => [role, perUnit(ticks)]));
  return { ...result, 'host busy': perUnit(to.busyTicks - from.busyTicks) };
}

export function cpuShare(from: CpuSnapshot | null, to: CpuSnapshot | null): CpuShare | null {
  if (!from || !to) return null;
  const seconds = (to.at - from.at) / 1_000;
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  const sums: Record<Kind, number> = { bench: 0, postgres: 0, redis: 0, foreign: 0 };
  const foreign: Array<[number, number]> = [];
  for (const [pid, { kind }, delta] of tickDeltas(from, to)) {
    sums[kind] += delta;
    if (kind === 'foreign' && delta > 0) foreign.push([pid, delta]);
  }
  foreign.sort((a, b) => b[1] - a[1]);
  return {
    seconds,
    hostBusyCores: cores(to.busyTicks - from.busyTicks),
    foreignCores: cores(sums.foreign),
    topForeign: foreign.slice(0, 3).map(([pid, ticks]) => `${describe(pid)} ${cores(ticks).toFixed(2)}`),
  };
}

function describe(pid: number): string {
  try {
    return `${pid}:${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 60)}`;
  } catch {
    return String(pid);
  }
}

/**
 * Waits (up to `maxMs`) until processes outside the bench use less than `threshold` cores, measured
 * over half-second windows; returns how long it waited and the last window's foreign load.
 */
export async function waitForQuietHost(maxMs: number, threshold = 0.25): Promise<{ waitedMs: number; foreignCores: number | null }> {
  const started = wallNow();
  for (;;) {
    const before = cpuSnapshot();
    await sleep(500);
    const share = cpuShare(before, cpuSnapshot());
    if (!share) return { waitedMs: 0, foreignCores: null };
    // Between scenarios the bench is idle, so any busy time (PostgreSQL and Redis included) is someone else's.
    if (share.hostBusyCores < threshold || wallNow() - started >= maxMs)
      return { waitedMs: wallNow() - started, foreignCores: share.foreignCores };
  }
}
