import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CpuShare } from './support/host-load.js';
import type { MachineInfo } from './support/infra.js';

export interface Target {
  op: '>=' | '<=';
  value: number;
}

export const DELIVERY_RATE = 'deliveries/s';

/** One line of the results table. */
export interface Figure {
  id: string;
  label: string;
  value: number;
  unit: string;
  target?: Target;
  /** A target relative to L (`value >= targetTimesL × L`), made absolute by `applyLimit`. */
  targetTimesL?: number;
  /** For delivery figures: the same figure as a rate, divided by L from this run. */
  ratioToL?: number;
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  seconds: number;
  figures: Figure[];
  details: Record<string, unknown>;
  error?: string;
  /** Who used the CPU while the scenario ran, and how long the bench waited for a quiet host first. */
  host?: { quietWaitMs: number; cpu: CpuShare | null };
}

/**
 * Divides every delivery rate by L, and turns targets relative to L into numbers. L is the better of
 * the two measurements of this run (first and last): another process on the host can only lower it.
 */
export function applyLimit(results: ScenarioResult[]): { limit: number; from: string } | null {
  const measured = results
    .filter((r) => (r.id === 'L' || r.id === 'L2') && !r.error)
    .map((r) => ({ limit: r.figures[0].value, from: r.id }))
    .sort((a, b) => b.limit - a.limit);
  const best = measured[0];
  if (!best) return null;
  for (const result of results) {
    if (result.id === 'L' || result.id === 'L2') continue;
    for (const figure of result.figures) {
      if (figure.unit === DELIVERY_RATE) figure.ratioToL = figure.value / best.limit;
      if (figure.targetTimesL !== undefined) figure.target = { op: '>=', value: figure.targetTimesL * best.limit };
    }
  }
  return best;
}

export function passes(figure: Figure): boolean | undefined {
  if (!figure.target || !Number.isFinite(figure.value)) return figure.target ? false : undefined;
  return figure.target.op === '>=' ? figure.value >= figure.target.value : figure.value <= figure.target.value;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function printTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['figure', 'value', 'target', '× L', 'pass']];
  for (const result of results) {
    if (result.error) rows.push([`${result.id} ${result.title}`, 'ERROR', '', '', 'FAIL']);
    for (const figure of result.figures) {
      const pass = passes(figure);
      rows.push([
        `${figure.id} ${figure.label}`,
        `${formatNumber(figure.value)} ${figure.unit}`,
        figure.target ? `${figure.target.op} ${formatNumber(figure.target.value)} ${figure.unit}` : '',
        figure.ratioToL === undefined ? '' : figure.ratioToL.toFixed(2),
        pass === undefined ? 'info' : pass ? 'pass' : 'FAIL',
      ]);
    }
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
  console.log(out);
  return out;
}

/** One line per scenario: how busy the host was, and how much of that was not the bench. */
export function printHostLoad(results: ScenarioResult[]): string {
  const lines = results
    .filter((r) => r.host?.cpu)
    .map((r) => {
      const c = r.host!.cpu!;
      const warning = c.foreignCores > 0.2 ? `  ← other processes competed: ${c.topForeign.join('; ')}` : '';
      return (
        `  ${r.id.padEnd(3)} ${c.seconds.toFixed(1).padStart(6)} s   host busy ${c.hostBusyCores.toFixed(2)} cores, ` +
        `of which outside the bench ≥ ${c.foreignCores.toFixed(2)}${warning}`
      );
    });
  if (lines.length === 0) return '';
  const out = [
    'CPU while each scenario ran (bench = its processes, PostgreSQL and Redis):',
    ...lines,
    ...cpuPerDeliveryLines(results),
  ].join('\n');
  console.log(out);
  return out;
}

/**
 * Where a delivery's CPU goes, per process, in L and in the throughput runs: on a 2-core host the
 * sum bounds the rate (2 cores ÷ µs per delivery), which is what puts P1 where it is against L.
 */
const ROLE_ORDER = ['receiver', 'bare loop', 'worker', 'emitter', 'app', 'postgres', 'redis', 'foreign'];

function cpuPerDeliveryLines(results: ScenarioResult[]): string[] {
  type Cpu = Record<string, number> | null | undefined;
  const rows = results.flatMap((r) => {
    const cpu = r.details?.cpuMicrosPerDelivery as Cpu;
    const oneProcess = (r.details?.oneProcess as { cpuMicrosPerDelivery?: Cpu } | undefined)?.cpuMicrosPerDelivery;
    return [...(cpu ? [[r.id, cpu] as const] : []), ...(oneProcess ? [[`${r.id} one process`, oneProcess] as const] : [])];
  });
  if (rows.length === 0) return [];
  const seen = new Set(rows.flatMap(([, cpu]) => Object.keys(cpu)));
  const roles = ROLE_ORDER.filter((role) => seen.has(role)).concat(
    [...seen].filter((role) => !ROLE_ORDER.includes(role) && role !== 'orchestrator' && role !== 'host busy'),
    'host busy',
  );
  const header = `  ${'µs CPU per delivery'.padEnd(20)}${roles.map((role) => role.padStart(12)).join('')}`;
  const body = rows.map(([id, cpu]) => `  ${id.padEnd(20)}${roles.map((role) => String(cpu[role] ?? '-').padStart(12)).join('')}`);
  return ['', 'CPU per acknowledged delivery, by process (lower bounds; /proc ticks are 10 ms):', header, ...body];
}

export function writeResults(
  path: string,
  data: {
    machine: MachineInfo;
    config: unknown;
    elapsedSeconds: number;
    limit: { limit: number; from: string } | null;
    results: ScenarioResult[];
    table: string;
  },
): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ generatedAt: new Date().toISOString(), ...data }, null, 2) + '\n');
}
