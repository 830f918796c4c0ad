/**
 * Summarises V8 .cpuprofile files (node --cpu-prof writes one per thread): self time per function and
 * per area of the code, so a benchmark run can say where the daemon's time goes without a GUI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ThreadProfile {
  file: string;
  busyMs: number;
  idleMs: number;
  areas: Record<string, number>;
  top: { fn: string; where: string; selfMs: number; pct: number }[];
}

/** Which part of the stack a frame belongs to; native frames are attributed to their JS caller's area. */
function area(url: string, fn: string): string | null {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)') return 'program';
  if (url === '') return null;
  if (url.includes('/src/store/sqlite/')) return 'store/sqlite (JS)';
  if (url.includes('/src/store/histograms/') || url.includes('hdr-histogram')) return 'hdr histograms';
  if (url.includes('/src/codec/')) return 'decode';
  if (url.includes('/src/receivers/') || url.includes('/src/processing/') || url.includes('/src/pipeline/')) return 'receivers';
  if (url.includes('better-sqlite3')) return 'better-sqlite3';
  if (url.includes('@grpc')) return 'grpc-js';
  if (url.includes('pino') || url.includes('sonic-boom')) return 'logging';
  if (url.startsWith('node:')) return 'node internals';
  return 'other JS';
}

export function summarize(file: string, topN = 15): ThreadProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node from the sample stream (exact), not hitCount × average interval.
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let k = 0; k < samples.length; k++) {
    const next = deltas[k + 1] ?? 0;
    selfUs.set(samples[k] as number, (selfUs.get(samples[k] as number) ?? 0) + Math.max(0, next));
  }
  const areaOf = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur) as ProfileNode;
      const a = area(n.callFrame.url, n.callFrame.functionName);
      if (a !== null) return a;
    }
    return 'native';
  };
  const areas: Record<string, number> = {};
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id) as ProfileNode;
    const a = areaOf(id);
    areas[a] = (areas[a] ?? 0) + us / 1000;
    if (a === 'idle') continue;
    const fn = n.callFrame.functionName || '(anonymous)';
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : `native, in ${areaOf(parent.get(id) ?? id)}`;
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    fns.set(key, e);
  }
  const idleMs = areas.idle ?? 0;
  const busyMs = Object.entries(areas).reduce((s, [k, v]) => (k === 'idle' ? s : s + v), 0);
  const top = [...fns.values()]
    .sort((x, y) => y.us - x.us)
    .slice(0, topN)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), pct: Math.round((e.us / 1000 / busyMs) * 1000) / 10 }));
  for (const k of Object.keys(areas)) areas[k] = Math.round(areas[k] as number);
  return { file: path.basename(file), busyMs: Math.round(busyMs), idleMs: Math.round(idleMs), areas, top };
}

export function summarizeDir(dir: string, topN = 15): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarize(path.join(dir, f), topN))
    .sort((a, b) => b.busyMs - a.busyMs);
}
