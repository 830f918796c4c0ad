/**
 * The columnar get_trace summary (trace-summary-columns.ts) against the BigInt reference
 * (trace-summary.ts over buildTraceForest) on random traces: equal to the last field wherever it
 * answers, and it declines (null) exactly the traces it must. Small property-based traces cover every
 * degenerate shape; seeded 1k- and 10k-span traces cover size (deep chains, wide fan-out, many roots).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeSelfTimes } from '../../../src/analysis/self-time.js';
import { summarizeTrace, type TraceSummary } from '../../../src/analysis/trace-summary.js';
import { summarizeTraceColumns } from '../../../src/analysis/trace-summary-columns.js';
import { buildTraceForest } from '../../../src/analysis/trace-tree.js';
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import type { TraceSpan } from '../../../src/model/trace.js';
import { arbErrorTrace, bigTrace, EPOCH_NS, hex } from './columns-arb.js';
import { columnsOf } from './columns-fixture.js';
import { mkTrace } from './fixture.js';

const reference = (spans: readonly TraceSpan[]): TraceSummary => {
  const forest = buildTraceForest(spans);
  return summarizeTrace(forest, computeSelfTimes(forest));
};
const cyclic = (spans: readonly TraceSpan[]): boolean => buildTraceForest(spans).anomalies.cycleBroken.length > 0;

/** Columnar = reference, or declined because of a parent cycle; true when the columns answered. */
function agrees(spans: readonly TraceSpan[], k?: number): boolean {
  const fast = summarizeTraceColumns(columnsOf(spans, undefined, 'errors'), k);
  if (cyclic(spans)) {
    expect(fast).toBeNull();
    return false;
  }
  const forest = buildTraceForest(spans);
  expect(fast).toEqual(summarizeTrace(forest, computeSelfTimes(forest), k));
  return true;
}

describe('columnar get_trace summary', () => {
  it('equals the BigInt reference on random traces, and declines only traces with parent cycles', () => {
    fc.assert(
      fc.property(arbErrorTrace, fc.integer({ min: 0, max: 8 }), (spans, k) => {
        agrees(spans, k);
      }),
      { numRuns: 2000 },
    );
  });

  it('equals the BigInt reference on 1k- and 10k-span traces', () => {
    let answered = 0;
    for (let seed = 1; seed <= 12; seed++) if (agrees(bigTrace(seed, 1000))) answered++;
    for (let seed = 101; seed <= 103; seed++) if (agrees(bigTrace(seed, 10_000))) answered++;
    // Duplicate ids now and then close a parent cycle; most traces must still take the columnar path.
    expect(answered).toBeGreaterThanOrEqual(10);
  });

  it('gives the same answer whatever instant the offsets are taken from', () => {
    fc.assert(
      fc.property(arbErrorTrace, fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (spans, shift) => {
        const a = summarizeTraceColumns(columnsOf(spans, undefined, 'errors'));
        const b = summarizeTraceColumns(columnsOf(spans, (spans[0]?.startNs ?? 0n) + shift, 'errors'));
        expect(b).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });

  it('judges errors only from the details the columns carry, as the TraceSpans of the same read', () => {
    // A SERVER span with UNSET status and HTTP 503 is an error only when its attributes were read.
    const spans = mkTrace([
      { id: hex(1), start: 0, end: 10, kind: SpanKind.SERVER, attrs: { 'http.response.status_code': 503 } },
      { id: hex(2), parent: hex(1), start: 1, end: 5, status: StatusCode.ERROR, message: 'boom' },
    ]);
    expect(summarizeTraceColumns(columnsOf(spans, undefined, 'errors'))?.errorSpans).toBe(2);
    const linksOnly = summarizeTraceColumns(columnsOf(spans));
    expect(linksOnly).toEqual(reference(spans.map((s) => ({ ...s, attributes: {}, statusMessage: '', events: [] }))));
    expect(linksOnly?.errors).toEqual([{ spanId: hex(2), service: 'svc', name: hex(2), statusMessage: '', exceptionType: null }]);
  });

  it('declines a trace whose times are too far apart to be exact in doubles, and an empty one', () => {
    const wide = mkTrace([
      { id: hex(1), start: 0n, end: 2n ** 53n },
      { id: hex(2), parent: hex(1), start: 5n, end: 9n },
    ]);
    expect(summarizeTraceColumns(columnsOf(wide, undefined, 'errors'))).toBeNull();
    expect(summarizeTraceColumns(columnsOf([], undefined, 'errors'))).toBeNull();
  });

  it('orders services by their first kept span, not by a duplicate copy that named one earlier', () => {
    // The dropped copy of 02 names b before x appears; the kept spans name x first. Equal counts keep that order.
    const spans = mkTrace([
      { id: hex(1), start: EPOCH_NS, end: EPOCH_NS + 100n, service: 'a' },
      { id: hex(2), parent: hex(1), start: EPOCH_NS + 1n, end: EPOCH_NS + 5n, service: 'a' },
      { id: hex(2), parent: hex(1), start: EPOCH_NS + 1n, end: EPOCH_NS + 5n, service: 'b' },
      { id: hex(3), parent: hex(1), start: EPOCH_NS + 6n, end: EPOCH_NS + 9n, service: 'x' },
      { id: hex(4), parent: hex(1), start: EPOCH_NS + 6n, end: EPOCH_NS + 9n, service: 'b' },
    ]);
    expect(agrees(spans)).toBe(true);
    expect(summarizeTraceColumns(columnsOf(spans, undefined, 'errors'))?.services.map((s) => s.service)).toEqual(['a', 'x', 'b']);
  });
});
