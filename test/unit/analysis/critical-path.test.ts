/**
 * CP-v1 fixtures, numbered after the cases of ANALYSIS.md §1.4's divergence table. Each carries its
 * timeline (ns) and the exact canonical segments expected.
 */
import { describe, expect, it } from 'vitest';
import { SpanKind } from '../../../src/model/span.js';
import { computeCriticalPath, type CriticalPathReport } from '../../../src/analysis/critical-path.js';
import { followsFrom, mkTrace, type Row } from './fixture.js';
import { columnarAgrees } from './columns-fixture.js';

type Seg = [spanId: string, start: number, end: number];

function segs(report: CriticalPathReport, root = 0): Seg[] {
  return report.criticalPaths[root]!.segments.map((s) => [s.spanId, Number(s.startNs), Number(s.endNs)]);
}

/** Every fixture also checks that the columnar path (get_critical_path's) answers the same, where it answers. */
function cp(rows: Row[]): CriticalPathReport {
  columnarAgrees(mkTrace(rows));
  return computeCriticalPath(mkTrace(rows));
}

describe('CP-v1 fixtures', () => {
  it('01 single span owns its whole interval', () => {
    // root |0----100|
    const r = cp([{ id: 'root', start: 0, end: 100 }]);
    expect(segs(r)).toEqual([['root', 0, 100]]);
    expect(r.roots).toEqual([{ spanId: 'root', orphan: false, reason: null, primary: true }]);
  });

  it('02 touching sequential siblings are both critical (<=, unlike Jaeger UI)', () => {
    // root |0------------------------100|
    // a      |10----40|
    // b               |40------90|
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 10, end: 40 },
      { id: 'b', parent: 'root', start: 40, end: 90 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['a', 10, 40],
      ['b', 40, 90],
      ['root', 90, 100],
    ]);
  });

  it('03 concurrent children: only the last finisher and what ends before it starts', () => {
    // root |0------------------100|
    // a      |10--------60|
    // b         |20-----------80|
    // c                 |50-70|
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 10, end: 60 },
      { id: 'b', parent: 'root', start: 20, end: 80 },
      { id: 'c', parent: 'root', start: 50, end: 70 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 20],
      ['b', 20, 80],
      ['root', 80, 100],
    ]);
  });

  it('04 overflow: child cut to the parent end, grandchildren to the cut child; a grandchild past it is dropped', () => {
    // root |0--------100|
    // a          |50-----------130|      → [50,100]
    //   a1          |60--------120|      → [60,100]
    //   a2                  |105--125|   → starts at/after a's effective end: dropped
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 50, end: 130 },
      { id: 'a1', parent: 'a', start: 60, end: 120 },
      { id: 'a2', parent: 'a', start: 105, end: 125 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 50],
      ['a', 50, 60],
      ['a1', 60, 100],
    ]);
    expect(r.cpAdjustments).toEqual({ truncated: ['a', 'a1'], dropped: ['a2'], nonBlocking: [] });
    expect(r.traceDurationNs).toBe(130n);
  });

  it('05 underflow: child starting early is cut to the parent start; children fully outside are dropped', () => {
    //            root |20--------100|
    // a       |0------------50|          → [20,50]
    // b  |0--10|                         → ends before the parent starts: dropped
    // c                          |100-120| → starts at the parent end: dropped
    const r = cp([
      { id: 'root', start: 20, end: 100 },
      { id: 'a', parent: 'root', start: 0, end: 50 },
      { id: 'b', parent: 'root', start: 0, end: 10 },
      { id: 'c', parent: 'root', start: 100, end: 120 },
    ]);
    expect(segs(r)).toEqual([
      ['a', 20, 50],
      ['root', 50, 100],
    ]);
    expect(r.cpAdjustments).toEqual({ truncated: ['a'], dropped: ['b', 'c'], nonBlocking: [] });
    // Offsets are from the trace start (0), not the root start.
    expect(r.criticalPaths[0]!.segments.map((s) => s.startNs)).toEqual([20n, 50n]);
  });

  it('06 PRODUCER→CONSUMER and FOLLOWS_FROM children are non-blocking', () => {
    // root (SERVER) |0-----------------------100|
    // prod (PRODUCER) |10--20|
    //   cons (CONSUMER)        |30--------------------150|  non-blocking
    // w (INTERNAL)         |25-35|
    // ff (link follows_from root)  |40-----90|              non-blocking
    const r = cp([
      { id: 'root', start: 0, end: 100, kind: SpanKind.SERVER },
      { id: 'prod', parent: 'root', start: 10, end: 20, kind: SpanKind.PRODUCER },
      { id: 'cons', parent: 'prod', start: 30, end: 150, kind: SpanKind.CONSUMER },
      { id: 'w', parent: 'root', start: 25, end: 35 },
      { id: 'ff', parent: 'root', start: 40, end: 90, links: [followsFrom('root')] },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['prod', 10, 20],
      ['root', 20, 25],
      ['w', 25, 35],
      ['root', 35, 100],
    ]);
    expect(r.cpAdjustments.nonBlocking).toEqual(['cons', 'ff']);
    // SELF-v1 counts every child: root self = 100 − |[10,20] ∪ [25,35] ∪ [40,90]| = 30.
    const row = r.criticalPaths[0]!.bySpan.find((s) => s.spanId === 'root')!;
    expect(row).toMatchObject({ criticalNs: 80n, selfNs: 30n, durationNs: 100n, share: 0.8 });
  });

  it('06b a follows_from link to another span, or with another ref type, is still blocking', () => {
    // root |0------100|
    // a      |10--50|    link follows_from → 'x' (not the parent), link child_of → root
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      {
        id: 'a',
        parent: 'root',
        start: 10,
        end: 50,
        links: [followsFrom('x'), { ...followsFrom('root'), attributes: { 'opentracing.ref_type': 'child_of' } }],
      },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['a', 10, 50],
      ['root', 50, 100],
    ]);
  });

  it('07 an orphan subtree gets its own path and is flagged', () => {
    // root |0------50|
    // x (parent missing)  |60-----------100|
    //   x1                   |70--90|
    const r = cp([
      { id: 'root', start: 0, end: 50 },
      { id: 'x', parent: 'ffffffffffffffff', start: 60, end: 100 },
      { id: 'x1', parent: 'x', start: 70, end: 90 },
    ]);
    expect(r.roots).toEqual([
      { spanId: 'root', orphan: false, reason: null, primary: true },
      { spanId: 'x', orphan: true, reason: 'missingParent', primary: false },
    ]);
    expect(segs(r, 0)).toEqual([['root', 0, 50]]);
    expect(segs(r, 1)).toEqual([
      ['x', 60, 70],
      ['x1', 70, 90],
      ['x', 90, 100],
    ]);
    expect(r.anomalies.missingParent).toEqual(['x']);
  });

  it('08 several parentless roots: one path each, the longest of the earliest is primary', () => {
    // r1 |0-----40|
    // r2 |0-------------60|
    //   a    |10-30|
    //   b          |30---60|   touches a and r2's end
    // r3         |20--30|
    const r = cp([
      { id: 'r1', start: 0, end: 40 },
      { id: 'r2', start: 0, end: 60 },
      { id: 'a', parent: 'r2', start: 10, end: 30 },
      { id: 'b', parent: 'r2', start: 30, end: 60 },
      { id: 'r3', start: 20, end: 30 },
    ]);
    expect(r.roots.map((x) => [x.spanId, x.primary])).toEqual([
      ['r1', false],
      ['r2', true],
      ['r3', false],
    ]);
    expect(segs(r, 1)).toEqual([
      ['r2', 0, 10],
      ['a', 10, 30],
      ['b', 30, 60],
    ]);
    expect(r.criticalPaths[1]!.primary).toBe(true);
    expect(segs(r, 2)).toEqual([['r3', 20, 30]]);
  });

  it('09 the parent owns the gaps between critical children', () => {
    // root |0------------------100|
    // a      |10-20|
    // b               |50-70|
    const r = cp([
      { id: 'root', start: 0, end: 100, service: 'front' },
      { id: 'a', parent: 'root', start: 10, end: 20, service: 'db' },
      { id: 'b', parent: 'root', start: 50, end: 70, service: 'db' },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['a', 10, 20],
      ['root', 20, 50],
      ['b', 50, 70],
      ['root', 70, 100],
    ]);
    expect(r.criticalPaths[0]!.byService).toEqual([
      { service: 'front', criticalNs: 70n, criticalMs: 0, share: 0.7 },
      { service: 'db', criticalNs: 30n, criticalMs: 0, share: 0.3 },
    ]);
    expect(r.criticalPaths[0]!.bySpan.map((s) => [s.spanId, s.criticalNs])).toEqual([
      ['root', 70n],
      ['b', 20n],
      ['a', 10n],
    ]);
  });

  it('10 nested overflow with touching siblings', () => {
    // root |0---------------100|
    // a    |0------60|
    // b              |60-------------120|     → [60,100]
    //   b1               |70-------------130| → [70,100]
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 0, end: 60 },
      { id: 'b', parent: 'root', start: 60, end: 120 },
      { id: 'b1', parent: 'b', start: 70, end: 130 },
    ]);
    expect(segs(r)).toEqual([
      ['a', 0, 60],
      ['b', 60, 70],
      ['b1', 70, 100],
    ]);
    expect(r.cpAdjustments.truncated).toEqual(['b', 'b1']);
  });

  it('11 equal ends: the earliest start (longest) wins', () => {
    // root |0------------100|
    // a        |20----80|
    // b     |10-------80|
    // c          |30--80|
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 20, end: 80 },
      { id: 'b', parent: 'root', start: 10, end: 80 },
      { id: 'c', parent: 'root', start: 30, end: 80 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['b', 10, 80],
      ['root', 80, 100],
    ]);
  });

  it('12 clock skew is clipped, not corrected', () => {
    // root (SERVER)  |0------------------100|
    // client (CLIENT)  |10------------90|
    //   server (other host, +50 skew)   |70----------130|  → [70,90]
    const r = cp([
      { id: 'root', start: 0, end: 100, kind: SpanKind.SERVER },
      { id: 'client', parent: 'root', start: 10, end: 90, kind: SpanKind.CLIENT },
      { id: 'server', parent: 'client', start: 70, end: 130, kind: SpanKind.SERVER },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['client', 10, 70],
      ['server', 70, 90],
      ['root', 90, 100],
    ]);
    expect(r.cpAdjustments.truncated).toEqual(['server']);
  });

  it('12b opt-in Jaeger clock-skew adjuster re-centres the other host, its same-host children inherit the delta', () => {
    // ANALYSIS.md §1.3 example (backend host +50):
    // client (host a)   |10---------------90|
    //   server (host b)              |70-------------130|  → delta = 10 + (80−60)/2 − 70 = −50 → [20,80]
    //     db (host b)                    |80------120|     → inherits −50 → [30,70]
    const rows: Row[] = [
      { id: 'client', start: 10, end: 90, kind: SpanKind.CLIENT, resource: { 'host.name': 'a' } },
      { id: 'server', parent: 'client', start: 70, end: 130, kind: SpanKind.SERVER, resource: { 'host.id': 'b' } },
      { id: 'db', parent: 'server', start: 80, end: 120, kind: SpanKind.CLIENT, resource: { 'host.id': 'b' } },
    ];
    const clipped = cp(rows);
    expect(segs(clipped)).toEqual([
      ['client', 10, 70],
      ['server', 70, 80],
      ['db', 80, 90],
    ]);
    expect(clipped.clockSkew).toEqual({ mode: 'none', maxDeltaNs: 1_000_000_000n, adjustments: [], warnings: [] });
    const adjusted = computeCriticalPath(mkTrace(rows), { clockSkew: 'jaeger' });
    expect(segs(adjusted)).toEqual([
      ['client', 10, 20],
      ['server', 20, 30],
      ['db', 30, 70],
      ['server', 70, 80],
      ['client', 80, 90],
    ]);
    expect(adjusted.clockSkew.adjustments).toEqual([
      { spanId: 'db', deltaNs: -50n, deltaMs: 0 },
      { spanId: 'server', deltaNs: -50n, deltaMs: 0 },
    ]);
    expect(adjusted.cpAdjustments.truncated).toEqual([]);
    // Beyond max delta nothing moves and the shift is reported instead.
    const capped = computeCriticalPath(mkTrace(rows), { clockSkew: 'jaeger', maxClockSkewNs: 10n });
    expect(segs(capped)).toEqual(segs(clipped));
    expect(capped.clockSkew.warnings.map((w) => [w.spanId, w.deltaNs])).toEqual([
      ['db', -50n],
      ['server', -50n],
    ]);
  });

  it('13 zero-duration children own nothing; adjacent parent segments merge', () => {
    // root |0-----------100|
    // z1         |50|
    // z2         |50|
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'z1', parent: 'root', start: 50, end: 50 },
      { id: 'z2', parent: 'root', start: 50, end: 50 },
    ]);
    expect(segs(r)).toEqual([['root', 0, 100]]);
  });

  it('14 a run of touching awaits fills the whole parent', () => {
    // root |0---------------------100|
    // a    |0----30|
    // b           |30----60|
    // c                    |60----100|
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 0, end: 30 },
      { id: 'b', parent: 'root', start: 30, end: 60 },
      { id: 'c', parent: 'root', start: 60, end: 100 },
    ]);
    expect(segs(r)).toEqual([
      ['a', 0, 30],
      ['b', 30, 60],
      ['c', 60, 100],
    ]);
  });

  it('15 touching across levels: a child covering its parent exactly takes all its time', () => {
    // root |0------------------100|
    // a      |10--------50|
    //   a1   |10--------50|
    // b                   |50-----100|
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 10, end: 50 },
      { id: 'a1', parent: 'a', start: 10, end: 50 },
      { id: 'b', parent: 'root', start: 50, end: 100 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['a1', 10, 50],
      ['b', 50, 100],
    ]);
  });

  it('16 a small overlap is concurrency (not critical); equal intervals tie-break by spanId', () => {
    // root |0--------------------1000|
    // a    |0-------501|
    // b              |500---------1000|   1 ns overlap (< 1 % of the parent): a is not critical
    const r = cp([
      { id: 'root', start: 0, end: 1000 },
      { id: 'a', parent: 'root', start: 0, end: 501 },
      { id: 'b', parent: 'root', start: 500, end: 1000 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 500],
      ['b', 500, 1000],
    ]);
    // root |0------------100|
    // y        |20----80|
    // x        |20----80|
    const t = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'y', parent: 'root', start: 20, end: 80 },
      { id: 'x', parent: 'root', start: 20, end: 80 },
    ]);
    expect(segs(t)).toEqual([
      ['root', 0, 20],
      ['x', 20, 80],
      ['root', 80, 100],
    ]);
  });

  it('17 cycles and self-parents are broken deterministically', () => {
    // r  |0------100|
    // s (parent s)  |10--30|          selfParent root
    // c1 (parent c2)       |40--------------80|   cycle c1⇄c2, c1 starts first → detached as root
    //   c2 (parent c1)        |50-------70|
    //     c3 (parent c2)         |60-65|
    const r = cp([
      { id: 'r', start: 0, end: 100 },
      { id: 's', parent: 's', start: 10, end: 30 },
      { id: 'c1', parent: 'c2', start: 40, end: 80 },
      { id: 'c2', parent: 'c1', start: 50, end: 70 },
      { id: 'c3', parent: 'c2', start: 60, end: 65 },
    ]);
    expect(r.roots).toEqual([
      { spanId: 'r', orphan: false, reason: null, primary: true },
      { spanId: 's', orphan: true, reason: 'selfParent', primary: false },
      { spanId: 'c1', orphan: true, reason: 'cycle', primary: false },
    ]);
    expect(segs(r, 2)).toEqual([
      ['c1', 40, 50],
      ['c2', 50, 60],
      ['c3', 60, 65],
      ['c2', 65, 70],
      ['c1', 70, 80],
    ]);
    expect(r.anomalies).toMatchObject({ selfParent: ['s'], cycleBroken: ['c1'] });
  });

  it('18 duplicates keep the first received; negative durations become zero', () => {
    // root |0---------100|
    // a      |10--50|
    // a (dup)        |60--90|     ignored
    // n                |70|       end 60 < start 70 → [70,70]
    const r = cp([
      { id: 'root', start: 0, end: 100 },
      { id: 'a', parent: 'root', start: 10, end: 50 },
      { id: 'a', parent: 'root', start: 60, end: 90 },
      { id: 'n', parent: 'root', start: 70, end: 60 },
    ]);
    expect(segs(r)).toEqual([
      ['root', 0, 10],
      ['a', 10, 50],
      ['root', 50, 100],
    ]);
    expect(r.anomalies).toEqual({
      missingParent: [],
      selfParent: [],
      cycleBroken: [],
      negativeDuration: ['n'],
      duplicateSpanIds: ['a'],
    });
  });

  it('19 ids are normalised: upper-case hex and an all-zero parent mean the same span / no parent', () => {
    const r = cp([
      { id: 'AA00000000000001', parent: '0000000000000000', start: 0, end: 100 },
      { id: 'aa00000000000002', parent: 'AA00000000000001', start: 10, end: 20 },
    ]);
    expect(r.roots).toHaveLength(1);
    expect(segs(r)).toEqual([
      ['aa00000000000001', 0, 10],
      ['aa00000000000002', 10, 20],
      ['aa00000000000001', 20, 100],
    ]);
  });

  it('20 empty input is an empty report, not a throw', () => {
    const r = computeCriticalPath([]);
    expect(r.criticalPaths).toEqual([]);
    expect(r.traceDurationMs).toBe(0);
  });
});
