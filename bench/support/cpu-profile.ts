import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that the summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  /** Time not spent idle: where the process's CPU went. */
  busyMs: number;
  /** Self time by where the code lives (package, node core area, GC, the module's own dist), share of busy. */
  byArea: Array<{ area: string; ms: number; share: number }>;
  /**
   * Self time charged to the nearest library on the stack: a socket `writev` under pg counts for pg,
   * a microtask run by undici for undici. What each dependency costs, syscalls included.
   */
  byOwner: Array<{ owner: string; ms: number; share: number }>;
  /** Functions with the most self time. */
  topSelf: Array<{ fn: string; area: string; ms: number; share: number }>;
  /** The module's own functions by inclusive (synchronous) time: what they and their callees cost. */
  libraryInclusive: Array<{ fn: string; ms: number; share: number }>;
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const profile: CpuProfile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByNode = new Map<number, number>();
  let sampledMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1_000; // a sample lasts until the next one
    sampledMs += ms;
    selfByNode.set(profile.samples[i], (selfByNode.get(profile.samples[i]) ?? 0) + ms);
  }

  const byArea = new Map<string, number>();
  const bySelf = new Map<string, { area: string; ms: number }>();
  const libraryInclusive = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let idleMs = 0;
  for (const [id, ms] of selfByNode) {
    const frame = nodes.get(id)!.callFrame;
    const area = areaOf(frame.url, frame.functionName);
    if (area === '(idle)') {
      idleMs += ms;
      continue;
    }
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const entry = bySelf.get(key) ?? { area, ms: 0 };
    entry.ms += ms;
    bySelf.set(key, entry);
    const owner = ownerOf(id, nodes, parent);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
    // Inclusive time of the module's functions: every distinct library frame on this stack gets `ms`.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = nodes.get(at)!.callFrame;
      if (areaOf(f.url, f.functionName) !== 'nestjs-webhooks') continue;
      const name = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}`;
      if (seen.has(name)) continue;
      seen.add(name);
      libraryInclusive.set(name, (libraryInclusive.get(name) ?? 0) + ms);
    }
  }
  const busyMs = sampledMs - idleMs;
  const share = (ms: number) => Math.round((ms / busyMs) * 1_000) / 10;
  const sorted = <T extends { ms: number }>(rows: T[]) => rows.sort((a, b) => b.ms - a.ms);
  return {
    file,
    sampledMs: Math.round(sampledMs),
    busyMs: Math.round(busyMs),
    byOwner: sorted([...byOwner].map(([owner, ms]) => ({ owner, ms: Math.round(ms), share: share(ms) }))).slice(0, top),
    byArea: sorted([...byArea].map(([area, ms]) => ({ area, ms: Math.round(ms), share: share(ms) }))).slice(0, top),
    topSelf: sorted([...bySelf].map(([fn, { area, ms }]) => ({ fn, area, ms: Math.round(ms), share: share(ms) }))).slice(0, top),
    libraryInclusive: sorted([...libraryInclusive].map(([fn, ms]) => ({ fn, ms: Math.round(ms), share: share(ms) }))).slice(0, top),
  };
}

const UNOWNED = /^(\((?!bench)|node:)/;

function ownerOf(id: number, nodes: Map<number, CpuProfile['nodes'][number]>, parent: Map<number, number>): string {
  const leaf = areaOf(nodes.get(id)!.callFrame.url, nodes.get(id)!.callFrame.functionName);
  if (leaf === '(garbage collector)' || leaf === '(program: VM, native)') return leaf;
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = nodes.get(at)!.callFrame;
    const area = areaOf(frame.url, frame.functionName);
    if (!UNOWNED.test(area)) return area;
  }
  return '(node core, no library on the stack)';
}

function areaOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(program)') return '(program: VM, native)';
  if (!url) return '(native builtins)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (/\/dist\/(cjs|esm)\//.test(url)) return 'nestjs-webhooks';
  if (url.includes('/bench/dist/')) return '(bench harness)';
  const core = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (core) return `node:${core[1]}`;
  return url;
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\/(cjs|esm)\//, 'lib/');
}
