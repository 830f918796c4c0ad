/**
 * The columnar CP-v1 (critical-path-columns.ts) against the BigInt reference on random traces: same
 * summary to the last number wherever it answers, and it declines (null) exactly the traces it must.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCriticalPath } from '../../../src/analysis/critical-path.js';
import { summarizeColumns } from '../../../src/analysis/critical-path-columns.js';
import { msOf } from '../../../src/analysis/critical-path-columns-digest.js';
import { summarizeCriticalPath } from '../../../src/analysis/critical-path-summary.js';
import { nsToMs } from '../../../src/analysis/time.js';
import { buildTraceForest } from '../../../src/analysis/trace-tree.js';
import { arbTrace, EPOCH_NS, hex } from './columns-arb.js';
import { columnarAgrees, columnsOf } from './columns-fixture.js';
import { mkTrace } from './fixture.js';

const arbOptions = fc.record({ spanRows: fc.integer({ min: 0, max: 25 }), segments: fc.integer({ min: 0, max: 25 }) });

describe('columnar CP-v1', () => {
  it('equals the BigInt reference, and declines only traces with parent cycles', () => {
    fc.assert(
      fc.property(arbTrace, arbOptions, (spans, options) => {
        const cyclic = buildTraceForest(spans).anomalies.cycleBroken.length > 0;
        const fast = summarizeColumns(columnsOf(spans), options);
        if (cyclic) {
          expect(fast).toBeNull();
          return;
        }
        expect(fast).toEqual(summarizeCriticalPath(computeCriticalPath(spans), options));
      }),
      { numRuns: 1500 },
    );
  });

  it('gives the same answer whatever instant the offsets are taken from', () => {
    fc.assert(
      fc.property(arbTrace, fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (spans, shift) => {
        const options = { spanRows: 10, segments: 10 };
        const a = summarizeColumns(columnsOf(spans), options);
        const b = summarizeColumns(columnsOf(spans, (spans[0]?.startNs ?? 0n) + shift), options);
        expect(b).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });

  it('declines a trace whose times are too far apart to be exact in doubles, and one with a garbage end', () => {
    const wide = mkTrace([
      { id: hex(1), start: 0n, end: 2n ** 53n },
      { id: hex(2), parent: hex(1), start: 5n, end: 9n },
    ]);
    expect(summarizeColumns(columnsOf(wide), { spanRows: 5, segments: 5 })).toBeNull();
    const garbage = mkTrace([
      { id: hex(1), start: EPOCH_NS, end: EPOCH_NS + 100n },
      { id: hex(2), parent: hex(1), start: EPOCH_NS + 5n, end: 0n },
    ]);
    expect(summarizeColumns(columnsOf(garbage), { spanRows: 5, segments: 5 })).toBeNull();
    // Just inside the limit: answered, and equal to the reference.
    const justInside = mkTrace([
      { id: hex(1), start: EPOCH_NS, end: EPOCH_NS + 2n ** 53n - 2048n },
      { id: hex(2), parent: hex(1), start: EPOCH_NS + 2n ** 52n + 1n, end: EPOCH_NS + 2n ** 52n + 1501n },
    ]);
    expect(columnarAgrees(justInside, { spanRows: 5, segments: 5 })).toBe(true);
  });

  it('rounds ns to ms exactly as nsToMs does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -5000, max: 5000 }), fc.integer(), fc.double({ min: -(2 ** 53 - 2048), max: 2 ** 53 - 2048, noNaN: true }).map(Math.trunc)), (ns) => {
        expect(Object.is(msOf(ns), nsToMs(BigInt(ns)))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    for (const ns of [499, 500, 1499, 1500, -500, -501, -499, 2 ** 53 - 1025]) expect(Object.is(msOf(ns), nsToMs(BigInt(ns)))).toBe(true);
  });

  it('picks the primary root among equal roots by span id', () => {
    const spans = mkTrace([
      { id: hex(3), start: 0, end: 50_000 },
      { id: hex(2), start: 0, end: 50_000 },
      { id: hex(4), parent: hex(3), start: 10_000, end: 20_000 },
    ]);
    expect(columnarAgrees(spans)).toBe(true);
    expect(summarizeColumns(columnsOf(spans), { spanRows: 5, segments: 5 })).toMatchObject({ roots: 2, primaryRootSpanId: hex(2) });
  });

  it('keeps the first received copy of a duplicated span id', () => {
    // The second copy of 02 would be critical; the first (kept) one ends earlier.
    const spans = mkTrace([
      { id: hex(1), start: 0, end: 100_000 },
      { id: hex(2), parent: hex(1), start: 10_000, end: 20_000 },
      { id: hex(2), parent: hex(1), start: 10_000, end: 90_000 },
    ]);
    expect(columnarAgrees(spans)).toBe(true);
    expect(summarizeColumns(columnsOf(spans), { spanRows: 5, segments: 5 })?.path?.topSpans.map((r) => [r.spanId, r.criticalMs])).toEqual([
      [hex(1), 0.09],
      [hex(2), 0.01],
    ]);
  });
});
