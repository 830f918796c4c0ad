/**
 * TraceSpan[] → TraceColumns, as the store builds them from packed headers, so the columnar CP-v1 can be
 * checked against the BigInt reference on the same spans. Span ids must be 16 hex digits (see hexIds).
 */
import { expect } from 'vitest';
import { computeCriticalPath } from '../../../src/analysis/critical-path.js';
import { summarizeColumns } from '../../../src/analysis/critical-path-columns.js';
import { summarizeCriticalPath, type CriticalPathSummaryOptions } from '../../../src/analysis/critical-path-summary.js';
import type { TraceSpan } from '../../../src/model/trace.js';
import type { SpanErrorDetails, TraceColumns } from '../../../src/model/trace-columns.js';

const HEX16 = /^[0-9a-f]{16}$/;

function halves(id: string): [number, number] {
  const lower = id.toLowerCase();
  if (!HEX16.test(lower)) throw new Error(`columnsOf needs 16-hex span ids, got "${id}"`);
  return [parseInt(lower.slice(0, 8), 16), parseInt(lower.slice(8), 16)];
}

/**
 * Offsets from `baseNs` (default: the first span's start, so offsets may be negative). `errors` puts
 * every span's status message, attributes and events in `errorDetails`, as the store's `errors` detail
 * does for the spans it decodes in full: the columns then hold what the TraceSpans hold.
 */
export function columnsOf(spans: readonly TraceSpan[], baseNs = spans[0]?.startNs ?? 0n, detail: 'links' | 'errors' = 'links'): TraceColumns {
  const n = spans.length;
  const services: string[] = [];
  const names: string[] = [];
  const local = (list: string[], s: string): number => (list.includes(s) ? list.indexOf(s) : list.push(s) - 1);
  const cols = {
    traceId: spans[0]?.traceId ?? '',
    count: n,
    spanIdHi: new Uint32Array(n),
    spanIdLo: new Uint32Array(n),
    hasParent: new Uint8Array(n),
    parentIdHi: new Uint32Array(n),
    parentIdLo: new Uint32Array(n),
    kind: new Uint8Array(n),
    statusCode: new Uint8Array(n),
    service: new Uint32Array(n),
    name: new Uint32Array(n),
    services,
    names,
    baseNs,
    startNs: new Float64Array(n),
    endNs: new Float64Array(n),
    links: new Map<number, TraceSpan['links']>(),
    ...(detail === 'errors' ? { errorDetails: new Map<number, SpanErrorDetails>() } : {}),
  };
  spans.forEach((s, i) => {
    [cols.spanIdHi[i], cols.spanIdLo[i]] = halves(s.spanId);
    if (s.parentSpanId !== '') {
      const [hi, lo] = halves(s.parentSpanId);
      if ((hi | lo) !== 0) [cols.hasParent[i], cols.parentIdHi[i], cols.parentIdLo[i]] = [1, hi, lo];
    }
    cols.kind[i] = s.kind;
    cols.statusCode[i] = s.statusCode;
    cols.errorDetails?.set(i, { statusMessage: s.statusMessage, attributes: s.attributes, events: s.events });
    cols.service[i] = local(services, s.service);
    cols.name[i] = local(names, s.name);
    cols.startNs[i] = Number(s.startNs - baseNs);
    cols.endNs[i] = Number(s.endNs - baseNs);
    if (s.links.length > 0) cols.links.set(i, s.links);
  });
  return cols;
}

/**
 * The same spans with every span, parent and link id replaced by a 16-hex id of the same rank among the
 * lower-cased ids, so that id order (a CP-v1 tie-break) is preserved; all-zero ids stay all zeros.
 */
export function hexIds(spans: readonly TraceSpan[]): TraceSpan[] {
  const all = new Set<string>();
  for (const s of spans) {
    for (const id of [s.spanId, s.parentSpanId, ...s.links.map((l) => l.spanId)]) if (!ZERO.test(id)) all.add(id.toLowerCase());
  }
  const rank = new Map([...all].sort().map((id, r) => [id, (r + 1).toString(16).padStart(16, '0')]));
  const map = (id: string): string => (ZERO.test(id) ? '0'.repeat(16) : rank.get(id.toLowerCase())!);
  return spans.map((s) => ({
    ...s,
    spanId: map(s.spanId),
    parentSpanId: s.parentSpanId === '' ? '' : map(s.parentSpanId),
    links: s.links.map((l) => ({ ...l, spanId: map(l.spanId) })),
  }));
}

const ZERO = /^0*$/;

/** Columnar CP-v1 summary of `spans` (ids made hex) equals the BigInt reference's; false when it declined. */
export function columnarAgrees(spans: readonly TraceSpan[], options: CriticalPathSummaryOptions = { spanRows: 1000, segments: 1000 }): boolean {
  const hex = hexIds(spans);
  const fast = summarizeColumns(columnsOf(hex), options);
  if (fast === null) return false;
  expect(fast).toEqual(summarizeCriticalPath(computeCriticalPath(hex), options));
  return true;
}
