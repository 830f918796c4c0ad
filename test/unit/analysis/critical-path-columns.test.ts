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
import { SpanKind } from '../../../src/model/span.js';
import { columnarAgrees, columnsOf } from './columns-fixture.js';
import { followsFrom, mkTrace, traceIdOf, type Row } from './fixture.js';
import type { TraceLink } from '../../../src/model/trace.js';

const hex = (n: number): string => n.toString(16).padStart(16, '0');
const EPOCH_NS = 1_763_000_000_000_000_000n;

/** Random traces with hex ids: duplicates, zero/missing/self parents, cycles, ties, skew, async children. */
const arbTrace = fc
  .record({
    base: fc.constantFrom(0n, EPOCH_NS, EPOCH_NS + 123_456_789n),
    scale: fc.constantFrom(1, 1000, 1_000_000, 333),
    items: fc.array(
      fc.record({
        idPick: fc.integer({ min: 0, max: 60 }),
        parentPick: fc.integer({ min: -4, max: 60 }),
        start: fc.integer({ min: 0, max: 60 }),
        len: fc.integer({ min: -5, max: 80 }),
        kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
        link: fc.constantFrom('none', 'none', 'follows_from', 'child_of', 'other_trace', 'other_span'),
        // Copy the previous span's times: equal starts, ends and roots exercise every tie-break.
        copyTimes: fc.boolean(),
        service: fc.integer({ min: 0, max: 4 }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  })
  .map(({ base, scale, items }) =>
    mkTrace(
      items.map((it, i): Row => {
        const times = it.copyTimes && i > 0 ? items[i - 1]! : it;
        // Mostly fresh ids; now and then a duplicate of an earlier one (the first received must win).
        const id = it.idPick === 0 && i > 0 ? hex(1 + ((i * 7) % i)) : hex(1 + i);
        let parent: string | undefined;
        if (it.parentPick === -1) parent = hex(0xdead);
        else if (it.parentPick === -2) parent = id;
        else if (it.parentPick === -3) parent = '0000000000000000';
        else if (it.parentPick >= 0 && i > 0) parent = hex(1 + (it.parentPick % (i + 2)));
        const start = base + BigInt(times.start * scale);
        const row: Row = { id, start, end: start + BigInt(times.len * scale), kind: it.kind, service: `svc${it.service}`, name: `op${i % 7}` };
        if (parent !== undefined) row.parent = parent;
        if (parent !== undefined && it.link !== 'none') row.links = [link(it.link, parent)];
        return row;
      }),
    ),
  );

/** A FOLLOWS_FROM link to the parent, or one of the links that must not make the child non-blocking. */
function link(kind: string, parent: string): TraceLink {
  const ff = followsFrom(parent.toUpperCase());
  if (kind === 'child_of') return { ...ff, attributes: { 'opentracing.ref_type': 'child_of' } };
  if (kind === 'other_trace') return { ...ff, traceId: traceIdOf(99) };
  if (kind === 'other_span') return { ...ff, spanId: hex(0xbeef) };
  return ff;
}

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
