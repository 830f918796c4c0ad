/**
 * The columnar get_trace topology rows (trace-topology-columns.ts) against the BigInt reference
 * (trace-topology.ts over buildTraceForest) on random traces read as get_trace reads them for this view
 * (`timing`: no attributes, events or links): equal wherever the columns answer, null only on a cycle.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeSelfTimes } from '../../../src/analysis/self-time.js';
import { topologyOf, type TopologyOptions } from '../../../src/analysis/trace-topology.js';
import { topologyOfColumns } from '../../../src/analysis/trace-topology-columns.js';
import { buildTraceForest } from '../../../src/analysis/trace-tree.js';
import type { TraceSpan } from '../../../src/model/trace.js';
import { arbErrorTrace, bigTrace, hex } from './columns-arb.js';
import { columnsOf } from './columns-fixture.js';
import { mkTrace } from './fixture.js';

/** The spans as the `timing` detail gives them. */
const timing = (spans: readonly TraceSpan[]): TraceSpan[] => spans.map((s) => ({ ...s, statusMessage: '', attributes: {}, events: [], links: [] }));

function agrees(raw: readonly TraceSpan[], o: TopologyOptions): boolean {
  const spans = timing(raw);
  const forest = buildTraceForest(spans);
  const fast = topologyOfColumns(columnsOf(spans), o);
  if (forest.anomalies.cycleBroken.length > 0) {
    expect(fast).toBeNull();
    return false;
  }
  expect(fast).toEqual(topologyOf(forest, computeSelfTimes(forest), o));
  return true;
}

const arbOptions = fc.record({
  limit: fc.integer({ min: 0, max: 70 }),
  depth: fc.constantFrom(undefined, undefined, 0, 1, 2.5, 4),
});

describe('columnar get_trace topology', () => {
  it('equals the BigInt reference on random traces, and declines only traces with parent cycles', () => {
    fc.assert(
      fc.property(arbErrorTrace, arbOptions, (spans, o) => {
        agrees(spans, o);
      }),
      { numRuns: 2000 },
    );
  });

  it('equals the BigInt reference on 1k- and 10k-span traces, whole and cut by depth', () => {
    let answered = 0;
    for (let seed = 1; seed <= 8; seed++) if (agrees(bigTrace(seed, 1000), { limit: seed * 60 })) answered++;
    for (let seed = 1; seed <= 4; seed++) if (agrees(bigTrace(seed, 1000), { limit: 50, depth: seed * 3 })) answered++;
    for (let seed = 101; seed <= 102; seed++) if (agrees(bigTrace(seed, 10_000), { limit: 500 })) answered++;
    expect(answered).toBeGreaterThanOrEqual(10);
  });

  it('declines a trace whose times are too far apart to be exact in doubles', () => {
    const wide = mkTrace([
      { id: hex(1), start: 0n, end: 2n ** 53n },
      { id: hex(2), parent: hex(1), start: 5n, end: 9n },
    ]);
    expect(topologyOfColumns(columnsOf(wide), { limit: 5 })).toBeNull();
    expect(topologyOfColumns(columnsOf([]), { limit: 5 })).toBeNull();
  });
});
