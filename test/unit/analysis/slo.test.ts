import { describe, expect, it } from 'vitest';
import { sloStatus, periodStartMs, periodLengthMs, objectivesOf, type SloDefinition, type SloEvents } from '../../../src/analysis/slo.js';
import { countAtOrBelow, eventsFromBuckets, windowFirstMinute } from '../../../src/analysis/slo-events.js';
import type { SloBucket } from '../../../src/analysis/slo-source.js';

const MIN = 60_000;
const DAY = 86_400_000;
/** Evaluation time on a minute boundary: minute index T. */
const T = 29_000_000;
const NOW = T * MIN;

const availability = (target = 0.999, period: SloDefinition['period'] = { rollingMs: 30 * DAY }): SloDefinition => ({
  name: 'avail',
  service: 'svc',
  period,
  indicator: { type: 'spans', kinds: [2, 5] },
  objectives: { availability: target, latency: [] },
});

const seed: SloDefinition = {
  name: 'apes',
  service: 'apes-ml-pipeline',
  period: { rollingMs: 30 * DAY },
  indicator: { type: 'spans', kinds: [2, 5] },
  objectives: { availability: 0.999, latency: [{ thresholdMs: 2000, target: 0.95 }, { thresholdMs: 5000, target: 0.99 }], errorRate: 0.001 },
};

/** A minute bucket of operation 0. */
const m = (minute: number, total: number, errors = 0, good: number[] = []): SloBucket => ({ op: 0, minute, minutes: 1, total, errors, good });

function status(slo: SloDefinition, buckets: SloBucket[], now = NOW, operations = ['GET /x']): ReturnType<typeof sloStatus> {
  const { objectives, operations: ops } = eventsFromBuckets(slo, buckets, operations, now);
  const events: SloEvents = { objectives, operations: ops, periodStartMs: periodStartMs(slo.period, now), precision: 'test' };
  return sloStatus(slo, events, now);
}

describe('SLO-v1 windows over minute buckets', () => {
  it('a window of k minutes holds minute indexes T−k < m ≤ T (the spec half-open rule on minute indexes)', () => {
    expect(windowFirstMinute(NOW, 5 * MIN)).toBe(T - 4);
    // Mid-minute: the current, partial minute is minute T and is included.
    expect(windowFirstMinute(NOW + 30_000, 5 * MIN)).toBe(T - 4);
  });

  it('half-open: a request ending exactly at t − 5 min is out of the 5 m window, one at t is in', () => {
    //  minute:  T-5      T-4 … T-1   T
    //  events:  1 (bad)  –           1 (good)
    //  5 m window = minutes T-4..T   → 1 event, 0 bad
    const s = status(availability(), [m(T - 5, 1, 1), m(T, 1, 0)]);
    const a = s.objectives[0]!;
    expect(a.alerts.find((x) => x.short === '5m')!.shortEvents).toBe(1);
    expect(a.burnRates['5m']).toBe(0);
    // 30 m window holds both: burn = (1/2) / 0.001 = 500.
    expect(a.burnRates['30m']).toBeCloseTo(500, 9);
    // Buckets after now (clock skew) are ignored.
    expect(status(availability(), [m(T + 1, 5, 5)]).requests).toBe(0);
  });

  it('the AND: availability burns 100x over 1 h but 0x over the last 5 min, so the fast page does not fire', () => {
    //  minute:   T-59 … T-48 | T-47 … T
    //  total:    100 each    | 100 each        (6 000 in the hour)
    //  errors:   50 each     | 0               (600 = 10 % → burn 100)
    const buckets: SloBucket[] = [];
    for (let k = 59; k >= 0; k--) buckets.push(m(T - k, 100, k >= 48 ? 50 : 0));
    const a = status(availability(), buckets).objectives[0]!;
    expect(a.burnRates['1h']).toBeCloseTo(100, 9);
    expect(a.burnRates['5m']).toBe(0);
    expect(a.burnRates['30m']).toBe(0);
    const byRule = Object.fromEntries(a.alerts.map((x) => [`${x.long}/${x.short}`, x.firing]));
    // 1h/5m: short window clean; 6h/30m: likewise; 3d/6h: both burn 100 > 1 → the ticket fires.
    expect(byRule).toEqual({ '1h/5m': false, '6h/30m': false, '3d/6h': true });
    expect(a.state).toBe('violated'); // 600 bad of 6 000 over the period: far below 99.9 %
  });

  it('pages when both windows burn, and flags low traffic instead of paging on a handful of requests', () => {
    const burst: SloBucket[] = [];
    for (let k = 59; k >= 0; k--) burst.push(m(T - k, 1000, 20)); // 2 % errors = burn 20 everywhere
    const paged = status(availability(), burst).objectives[0]!;
    expect(paged.alerts.filter((x) => x.firing).map((x) => `${x.long}/${x.short}`)).toEqual(['1h/5m', '6h/30m', '3d/6h']);
    const few = status(availability(), [m(T - 1, 3, 3)]).objectives[0]!;
    expect(few.burnRates['5m']).toBeCloseTo(1000, 9);
    expect(few.alerts.every((x) => x.lowTraffic && !x.firing)).toBe(true);
  });
});

describe('SLO-v1 budget and verdict', () => {
  it('attainment and error budget over the period: n = 10 000, bad = 5 at 99.9 %', () => {
    // 10 minutes of 1000 requests, 5 errors in all, 3 days ago (outside every burn window but the period).
    const buckets = Array.from({ length: 10 }, (_, i) => m(T - 3 * 1440 - 100 + i, 1000, i === 0 ? 5 : 0));
    const a = status(availability(), buckets).objectives[0]!;
    expect(a.events).toBe(10_000);
    expect(a.bad).toBe(5);
    expect(a.sli).toBeCloseTo(0.9995, 12);
    expect(a.allowedBad).toBeCloseTo(10, 9);
    expect(a.budgetConsumed).toBeCloseTo(0.5, 12);
    expect(a.budgetRemaining).toBeCloseTo(0.5, 12);
    expect(a.budgetRemainingEvents).toBeCloseTo(5, 9);
    expect(a.compliant).toBe(true);
    expect(a.exhaustionAtMs).toBeNull(); // nothing burning in the last hour
    expect(a.state).toBe('ok');
  });

  it('projects exhaustion from the 1 h burn rate: remaining × period / burn', () => {
    //  period: 100 000 requests, 40 bad (budget 100, 40 % used) ; last hour: 1 000 requests, 2 bad → burn 2
    const buckets = [m(T - 2000, 99_000, 38), m(T - 10, 1000, 2)];
    const a = status(availability(), buckets).objectives[0]!;
    expect(a.budgetConsumed).toBeCloseTo(0.4, 12);
    expect(a.burnRates['1h']).toBeCloseTo(2, 12);
    expect(a.exhaustionAtMs).toBeCloseTo(NOW + (0.6 * 30 * DAY) / 2, 3);
    // 9 days away, within one 30-day period → at risk although compliant and no alert fires.
    expect(a.compliant).toBe(true);
    expect(a.alerts.some((x) => x.firing)).toBe(false);
    expect(a.state).toBe('at_risk');
  });

  it('the seed SLO: four objectives from one request population; latency bad = total − good at each threshold', () => {
    //  one minute, 1000 requests: 990 ≤ 2 s, 996 ≤ 5 s, 1 error
    const s = status(seed, [m(T - 1, 1000, 1, [990, 996])]);
    expect(objectivesOf(seed).map((o) => o.name)).toEqual(['availability', 'latency_le_2000ms', 'latency_le_5000ms', 'error_rate']);
    const by = Object.fromEntries(s.objectives.map((o) => [o.name, o]));
    expect(by['availability']!.bad).toBe(1);
    expect(by['latency_le_2000ms']!.bad).toBe(10);
    expect(by['latency_le_2000ms']!.allowedBad).toBeCloseTo(50, 9); // (1 − 0.95) × 1000
    expect(by['latency_le_2000ms']!.budgetConsumed).toBeCloseTo(0.2, 12);
    expect(by['latency_le_5000ms']!.bad).toBe(4);
    expect(by['latency_le_5000ms']!.budgetConsumed).toBeCloseTo(0.4, 12);
    // errorRate 0.001 is target 0.999 on the same bad events: identical to availability here.
    expect(by['error_rate']!.target).toBeCloseTo(0.999, 12);
    expect(by['error_rate']!.budgetConsumed).toBeCloseTo(by['availability']!.budgetConsumed, 12);
    expect(s.requests).toBe(1000);
  });

  it('top consumers: operations ranked by the share of the budget they spent', () => {
    const buckets: SloBucket[] = [
      { op: 0, minute: T - 100, minutes: 1, total: 4990, errors: 1, good: [] },
      { op: 1, minute: T - 100, minutes: 1, total: 5000, errors: 4, good: [] },
      { op: 2, minute: T - 100, minutes: 1, total: 10, errors: 0, good: [] },
    ];
    const s = status(availability(), buckets, NOW, ['GET /a', 'POST /b', 'GET /c']);
    expect(s.topConsumers.map((c) => c.operation)).toEqual(['POST /b', 'GET /a']);
    expect(s.topConsumers[0]!.budgetShare).toBeCloseTo(0.4, 12);
    expect(s.topConsumers[1]!.budgetShare).toBeCloseTo(0.1, 12);
  });
});

describe('SLO-v1 periods and hour buckets', () => {
  it('rolling 30 d from hour buckets beyond minute retention: an hour counts when its first minute is in the period', () => {
    const hourBucket = (minute: number, total: number, errors: number): SloBucket => ({ op: 0, minute, minutes: 60, total, errors, good: [] });
    const first = windowFirstMinute(NOW, 30 * DAY); // T − 43 199
    const firstHour = Math.ceil(first / 60) * 60;
    const s = status(availability(), [hourBucket(firstHour - 60, 500, 500), hourBucket(firstHour, 100, 1), m(T, 900, 0)]);
    // The hour starting before the period is out entirely; the next one is in.
    expect(s.requests).toBe(1000);
    expect(s.objectives[0]!.bad).toBe(1);
  });

  it('calendar month: from the first instant of the UTC month; burn rates scale with the month length', () => {
    const now = Date.UTC(2026, 1, 10, 12, 0, 0); // 10 Feb 2026
    const slo = availability(0.999, { calendar: 'month' });
    expect(periodStartMs(slo.period, now)).toBe(Date.UTC(2026, 1, 1));
    expect(periodLengthMs(slo.period, now)).toBe(28 * DAY);
    const nowMin = now / MIN;
    const s = status(slo, [m(Date.UTC(2026, 0, 31, 23, 59) / MIN, 1000, 1000), m(Date.UTC(2026, 1, 1) / MIN, 1000, 0), m(nowMin, 10, 0)], now);
    expect(s.requests).toBe(1010); // January's last minute is not in February's period
    expect(s.periodEndMs).toBe(Date.UTC(2026, 2, 1));
  });
});

describe('metric histogram threshold counts', () => {
  it('explicit buckets (lo, hi]: observations in buckets whose upper bound ≤ threshold', () => {
    const h = { kind: 'explicit' as const, bounds: [100, 500, 2000, 5000], counts: [10, 20, 30, 5, 1], count: 66 };
    expect(countAtOrBelow(h, 2000)).toBe(60);
    expect(countAtOrBelow(h, 2500)).toBe(60); // not a bound: a lower bound (the (2000, 5000] bucket is uncertain)
    expect(countAtOrBelow(h, 5000)).toBe(65);
  });

  it('exponential buckets: zero and negative buckets, and positive ones with base^(i+1) ≤ threshold', () => {
    // scale 0: bucket i = (2^i, 2^(i+1)]
    const h = { kind: 'exponential' as const, scale: 0, zeroCount: 2, zeroThreshold: 0, positive: new Map([[0, 3], [1, 4], [2, 5]]), negative: new Map<number, number>(), count: 14 };
    expect(countAtOrBelow(h, 4)).toBe(2 + 3 + 4);
    expect(countAtOrBelow(h, 7.9)).toBe(9);
    expect(countAtOrBelow(h, 8)).toBe(14);
  });
});
