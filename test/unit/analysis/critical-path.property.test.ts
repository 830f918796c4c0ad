/**
 * CP-v1 / SELF-v1 invariants over random traces (fast-check): canonical segments tile each root
 * exactly, critical time sums to the root duration, self time stays within [0, duration], and the
 * result does not depend on the order spans arrive in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCriticalPath } from '../../../src/analysis/critical-path.js';
import { computeSelfTimes } from '../../../src/analysis/self-time.js';
import { buildTraceForest } from '../../../src/analysis/trace-tree.js';
import { SpanKind } from '../../../src/model/span.js';
import { followsFrom, mkTrace, type Row } from './fixture.js';

/** Random trace: parents among earlier spans (or none / missing / self / later → cycles), skewed intervals. */
const arbRows = fc
  .array(
    fc.record({
      parentPick: fc.integer({ min: -3, max: 40 }),
      start: fc.integer({ min: 0, max: 200 }),
      len: fc.integer({ min: -5, max: 120 }),
      kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
      ff: fc.boolean(),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((items) =>
    items.map((it, i): Row => {
      const id = `s${String(i).padStart(3, '0')}`;
      let parent: string | undefined;
      if (it.parentPick === -1) parent = 'missing';
      else if (it.parentPick === -2) parent = id;
      else if (it.parentPick >= 0 && i > 0) parent = `s${String(it.parentPick % (i + 3) < i ? it.parentPick % (i + 3) : (it.parentPick * 7) % items.length).padStart(3, '0')}`;
      const row: Row = { id, start: it.start, end: it.start + it.len, kind: it.kind };
      if (parent !== undefined) row.parent = parent;
      if (it.ff && parent !== undefined) row.links = [followsFrom(parent)];
      return row;
    }),
  );

describe('CP-v1 properties', () => {
  it('segments tile [root.start, root.end] with no gaps or overlaps and sum to the root duration (with and without the skew adjuster)', () => {
    fc.assert(
      fc.property(arbRows, fc.boolean(), (rows, jaeger) => {
        // Random hosts so the opt-in skew adjuster moves spans too; roots never move, so the tiling holds.
        const spans = mkTrace(rows.map((r, i) => ({ ...r, resource: { 'host.name': `h${i % 3}` } })));
        const report = computeCriticalPath(spans, jaeger ? { clockSkew: 'jaeger' } : {});
        const forest = buildTraceForest(spans);
        expect(report.criticalPaths).toHaveLength(forest.roots.length);
        // Every span belongs to exactly one root's tree.
        expect(forest.topDown).toHaveLength(forest.nodes.length);
        report.criticalPaths.forEach((path, r) => {
          const root = forest.nodes[forest.roots[r]!.index]!;
          const segs = path.segments;
          if (root.endNs === root.startNs) {
            expect(segs).toEqual([]);
            return;
          }
          expect(segs[0]!.startNs).toBe(root.startNs);
          expect(segs[segs.length - 1]!.endNs).toBe(root.endNs);
          for (let i = 0; i < segs.length; i++) {
            expect(segs[i]!.endNs > segs[i]!.startNs).toBe(true);
            if (i > 0) {
              expect(segs[i]!.startNs).toBe(segs[i - 1]!.endNs);
              expect(segs[i]!.spanId === segs[i - 1]!.spanId).toBe(false);
            }
          }
          const sum = path.bySpan.reduce((acc, s) => acc + s.criticalNs, 0n);
          expect(sum).toBe(root.endNs - root.startNs);
          expect(path.totalNs).toBe(root.endNs - root.startNs);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('self time is within [0, duration]', () => {
    fc.assert(
      fc.property(arbRows, (rows) => {
        const forest = buildTraceForest(mkTrace(rows));
        const self = computeSelfTimes(forest);
        forest.nodes.forEach((n, i) => {
          expect(self[i]! >= 0n).toBe(true);
          expect(self[i]! <= n.endNs - n.startNs).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the report does not depend on input order', () => {
    fc.assert(
      fc.property(
        arbRows.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        ([rows, shuffled]) => {
          expect(computeCriticalPath(mkTrace(shuffled))).toEqual(computeCriticalPath(mkTrace(rows)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
