/**
 * Analysis benchmark: CP-v1 on one large trace (the BigInt report, and the columnar summary that
 * get_critical_path computes), and AGG-v1 / SG-v1 / error grouping over many traces.
 * Inputs are built before timing; each case runs a few times and reports the median.
 *
 *   npx tsx bench/critical-path.ts [--spans 10000] [--traces 10000] [--runs 5]
 *
 * stdout: exactly one JSON line.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { aggregateCriticalPaths } from '../src/analysis/critical-path-aggregate.js';
import { computeCriticalPath } from '../src/analysis/critical-path.js';
import { summarizeColumns } from '../src/analysis/critical-path-columns.js';
import { groupErrors } from '../src/analysis/errors.js';
import { buildServiceGraph } from '../src/analysis/service-graph.js';
import { SpanKind } from '../src/model/span.js';
import type { TraceSpan } from '../src/model/trace.js';
import { checkoutTrace } from '../test/unit/analysis/checkout-fixture.js';
import { mkTrace, type Row } from '../test/unit/analysis/fixture.js';
import { columnsOf, hexIds } from '../test/unit/analysis/columns-fixture.js';

const { values: opts } = parseArgs({
  options: {
    spans: { type: 'string', default: '10000' },
    traces: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
  },
});
const spanCount = Number(opts.spans);
const traceCount = Number(opts.traces);
const runs = Number(opts.runs);

let seed = 42;
function rand(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}

/** A bushy trace: each span gets a random earlier parent, an interval mostly inside it (5 % overflow). */
function bigTrace(n: number): TraceSpan[] {
  const rows: Row[] = [{ id: 's0', start: 0, end: 1_000_000_000, kind: SpanKind.SERVER, service: 'svc0' }];
  for (let i = 1; i < n; i++) {
    const p = rows[Math.floor(rand() * Math.min(i, 2000)) + Math.max(0, i - 2000)]!;
    const ps = Number(p.start);
    const pe = Number(p.end);
    const start = ps + Math.floor(rand() * (pe - ps));
    const end = rand() < 0.05 ? pe + Math.floor(rand() * 1000) : start + Math.floor(rand() * (pe - start));
    rows.push({ id: `s${i}`, parent: p.id, start, end, service: `svc${i % 20}`, kind: rand() < 0.3 ? SpanKind.CLIENT : SpanKind.INTERNAL });
  }
  return mkTrace(rows);
}

function median(f: () => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]! * 10) / 10;
}

const big = bigTrace(spanCount);
const traces = Array.from({ length: traceCount }, (_, i) => checkoutTrace(i + 1, 5 + Math.floor(rand() * 200), { failInsert: rand() < 0.05 }));
const totalSpans = traces.reduce((a, t) => a + t.length, 0);

const cpMs = median(() => computeCriticalPath(big));
// The columnar path get_critical_path takes (the store builds the columns; here they are built before timing).
const bigColumns = columnsOf(hexIds(big));
const cpColumnsMs = median(() => summarizeColumns(bigColumns, { spanRows: 15, segments: 15 }));
if (summarizeColumns(bigColumns, { spanRows: 15, segments: 15 }) === null) throw new Error('the columnar path declined the big trace');
const aggMs = median(() => aggregateCriticalPaths(traces, { maxTraces: traceCount }));
const sgMs = median(() => buildServiceGraph(traces, { windowNs: 3_600_000_000_000n }));
const errMs = median(() => groupErrors(traces));
const agg = aggregateCriticalPaths(traces, { maxTraces: traceCount });
if (agg.traceCount !== traceCount) throw new Error(`aggregated ${agg.traceCount} traces, expected ${traceCount}`);

const cpus = os.cpus();
console.log(
  JSON.stringify({
    bench: 'analysis',
    machine: { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', node: process.version },
    runs,
    criticalPath: { spans: spanCount, medianMs: cpMs },
    criticalPathColumns: { spans: spanCount, medianMs: cpColumnsMs },
    aggregate: { traces: traceCount, spans: totalSpans, medianMs: aggMs },
    serviceGraph: { traces: traceCount, medianMs: sgMs },
    groupErrors: { traces: traceCount, medianMs: errMs },
  }),
);
