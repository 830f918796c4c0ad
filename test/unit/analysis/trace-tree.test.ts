import { describe, expect, it } from 'vitest';
import { computeSelfTimes } from '../../../src/analysis/self-time.js';
import { buildTraceForest } from '../../../src/analysis/trace-tree.js';
import { SpanKind } from '../../../src/model/span.js';
import { mkTrace } from './fixture.js';

describe('buildTraceForest', () => {
  it('picks the primary root among orphans when there is no true root: earliest, then longest, then smallest id', () => {
    // x (missing parent) |10----50|
    // b (missing parent) |10--------90|
    // a (missing parent) |10--------90|
    const f = buildTraceForest(
      mkTrace([
        { id: 'x', parent: 'p', start: 10, end: 50 },
        { id: 'b', parent: 'p', start: 10, end: 90 },
        { id: 'a', parent: 'p', start: 10, end: 90 },
      ]),
    );
    expect(f.nodes[f.primaryRoot]!.spanId).toBe('a');
    expect(f.roots.map((r) => [r.spanId, r.reason, r.primary])).toEqual([
      ['a', 'missingParent', true],
      ['b', 'missingParent', false],
      ['x', 'missingParent', false],
    ]);
    const g = buildTraceForest(mkTrace([{ id: 'z', parent: 'p', start: 0, end: 5 }, { id: 'r', start: 1, end: 100 }]));
    // A true root beats an earlier orphan.
    expect(g.nodes[g.primaryRoot]!.spanId).toBe('r');
  });

  it('orders children by (start, spanId) and lists nodes top-down with depth and root ordinal', () => {
    const f = buildTraceForest(
      mkTrace([
        { id: 'c', parent: 'r', start: 5, end: 6 },
        { id: 'b', parent: 'r', start: 5, end: 9 },
        { id: 'a', parent: 'r', start: 7, end: 8 },
        { id: 'g', parent: 'b', start: 6, end: 7 },
        { id: 'r', start: 0, end: 10 },
        { id: 'o', parent: 'gone', start: 20, end: 30 },
      ]),
    );
    const id = (i: number): string => f.nodes[i]!.spanId;
    expect(f.nodes[f.byId.get('r')!]!.children.map(id)).toEqual(['b', 'c', 'a']);
    expect(f.topDown.map(id)).toEqual(['r', 'o', 'b', 'c', 'a', 'g']);
    expect(f.nodes[f.byId.get('g')!]).toMatchObject({ depth: 2, rootOrdinal: 0 });
    expect(f.nodes[f.byId.get('o')!]).toMatchObject({ depth: 0, rootOrdinal: 1 });
    expect([f.startNs, f.endNs]).toEqual([0n, 30n]);
  });

  it('breaks a longer cycle once, at its earliest member, and keeps the tail hanging off it', () => {
    // c1 → c2 → c3 → c1 (parent pointers), t hangs off c3; c2 starts first.
    const f = buildTraceForest(
      mkTrace([
        { id: 'c1', parent: 'c3', start: 20, end: 30 },
        { id: 'c2', parent: 'c1', start: 10, end: 40 },
        { id: 'c3', parent: 'c2', start: 15, end: 35 },
        { id: 't', parent: 'c3', start: 16, end: 17 },
      ]),
    );
    expect(f.roots.map((r) => [r.spanId, r.reason])).toEqual([['c2', 'cycle']]);
    expect(f.anomalies.cycleBroken).toEqual(['c2']);
    expect(f.topDown).toHaveLength(4);
  });
});

describe('SELF-v1', () => {
  it('subtracts the union of all direct children clipped to the span, async ones included', () => {
    // p (PRODUCER) |0-----------------100|
    //   a             |10----40|
    //   b                 |30------60|        overlaps a: union [10,60]
    //   c (CONSUMER)                     |90---------150|   clipped to [90,100]
    //   d                                              |120-130|  outside: ignored
    const f = buildTraceForest(
      mkTrace([
        { id: 'p', start: 0, end: 100, kind: SpanKind.PRODUCER },
        { id: 'a', parent: 'p', start: 10, end: 40 },
        { id: 'b', parent: 'p', start: 30, end: 60 },
        { id: 'c', parent: 'p', start: 90, end: 150, kind: SpanKind.CONSUMER },
        { id: 'd', parent: 'p', start: 120, end: 130 },
      ]),
    );
    const self = computeSelfTimes(f);
    expect(self[f.byId.get('p')!]).toBe(100n - 50n - 10n);
    expect(self[f.byId.get('c')!]).toBe(60n);
  });
});
