/**
 * Opt-in Jaeger clock-skew adjuster (ANALYSIS.md §1.3; jaeger `adjuster/clockskew.go`), applied to a
 * forest before CP-v1 clipping when the caller asks for `clockSkew: "jaeger"`.
 *
 * CP-v1 clips by default because clipping never invents time; this view instead shifts a span from
 * another host so it sits inside its parent, assuming symmetric network latency, and reports every
 * shift. Same-host children inherit the host's delta (same clock). Spans without host attributes each
 * get their own delta, which can move in-process children relative to each other (Jaeger's caveat).
 */
import type { AttributeValue } from '../model/trace.js';
import { byStartThenId, type TraceForest, type TraceNode } from './trace-tree.js';

export interface ClockSkewAdjustment {
  spanId: string;
  /** Shift applied to start and end (negative = moved earlier). */
  deltaNs: bigint;
}

export interface ClockSkewWarning {
  spanId: string;
  deltaNs: bigint;
  reason: 'maxDeltaExceeded';
}

export interface ClockSkewResult {
  forest: TraceForest;
  adjustments: ClockSkewAdjustment[];
  warnings: ClockSkewWarning[];
}

function firstString(v: AttributeValue | undefined): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

/** host.id, else host.ip (string or first element), else host.name, else '' (unknown host). */
export function hostKeyOf(node: TraceNode): string {
  const r = node.span.resource;
  return firstString(r['host.id']) || firstString(r['host.ip']) || firstString(r['host.name']);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** Jaeger's calculateSkew, on the parent's adjusted and the child's raw interval. */
function calculateSkew(cs: bigint, ce: bigint, ps: bigint, pe: bigint): bigint {
  const cd = ce - cs;
  const pd = pe - ps;
  if (cd > pd) return cs < ps ? ps - cs : 0n; // async or timed-out parent
  if (cs >= ps && ce <= pe) return 0n; // already fits
  return ps + (pd - cd) / 2n - cs;
}

/**
 * Returns a new forest with shifted start/end times (children re-sorted by the new starts); the input
 * forest is not modified. `maxDeltaNs` bounds a shift: larger ones are not applied and are reported.
 */
export function adjustClockSkew(forest: TraceForest, maxDeltaNs: bigint): ClockSkewResult {
  const nodes = forest.nodes.map((n) => ({ ...n, children: [...n.children] }));
  const adjustments: ClockSkewAdjustment[] = [];
  const warnings: ClockSkewWarning[] = [];
  const hostOf = nodes.map((n) => hostKeyOf(n));
  // Skew carried down the tree: the host it was computed for and its delta (whether applied or not).
  const skewHost: string[] = new Array<string>(nodes.length);
  const skewDelta: bigint[] = new Array<bigint>(nodes.length);
  for (const i of forest.topDown) {
    const n = nodes[i]!;
    let host: string;
    let delta: bigint;
    if (n.parent === -1) {
      host = hostOf[i]!;
      delta = 0n;
    } else {
      const p = nodes[n.parent]!;
      host = skewHost[n.parent]!;
      delta = skewDelta[n.parent]!;
      if (hostOf[i] !== host || hostOf[i] === '') {
        host = hostOf[i]!;
        delta = calculateSkew(n.startNs, n.endNs, p.startNs, p.endNs);
      }
    }
    skewHost[i] = host;
    skewDelta[i] = delta;
    if (delta === 0n) continue;
    if (abs(delta) > maxDeltaNs) {
      warnings.push({ spanId: n.spanId, deltaNs: delta, reason: 'maxDeltaExceeded' });
      continue;
    }
    n.startNs += delta;
    n.endNs += delta;
    adjustments.push({ spanId: n.spanId, deltaNs: delta });
  }
  for (const n of nodes) if (n.children.length > 1) n.children.sort((a, b) => byStartThenId(nodes[a]!, nodes[b]!));
  let startNs = 0n;
  let endNs = 0n;
  nodes.forEach((n, i) => {
    if (i === 0 || n.startNs < startNs) startNs = n.startNs;
    if (i === 0 || n.endNs > endNs) endNs = n.endNs;
  });
  adjustments.sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
  warnings.sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
  return { forest: { ...forest, nodes, startNs, endNs }, adjustments, warnings };
}
