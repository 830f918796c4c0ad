/**
 * Gathers the event counts of one SLO per burn window and over its compliance period (input of
 * `sloStatus`), from the HDR latency series (spans SLIs) or from metric series (metrics SLIs).
 *
 * Windows at minute granularity. SLO-v1 puts an event in window w at time t when `t − w < time ≤ t`.
 * Counts are kept per epoch minute m = ⌊time / 1 min⌋, and the same rule is applied to minute indexes:
 * with T = ⌊t / 1 min⌋ and k = w / 1 min, window w holds the k buckets T − k < m ≤ T (the current,
 * partial minute included, so a fresh burn shows in the 5 m window at once). For t on a minute boundary
 * the spec's boundary cases hold (an event at t − w has m = T − k: out; one at t has m = T: in), but an
 * event in (t − w, t − w + 1 min) is out too: windows are resolved to whole minutes.
 * The event time of a span is its start (the minute key of the HDR series), not its end as SLO-v1 says:
 * they differ only for spans crossing a minute boundary.
 *
 * Rows read: each hour comes from its hour row, except the hours holding a window's first minute or
 * the current minute, which come from their minute rows, so every window is exact to the minute with
 * ~720 hour rows + a few hundred minute rows per series for 30 days (instead of 43 200 minutes). Beyond
 * minute retention (storage.retention.latencyMinutesMaxAge, default 2 d) only hour rows exist: an hour
 * is in a window when its first minute is, so such a window edge is resolved to whole hours (rounded
 * up: a 30-day period may miss up to 59 minutes, 0.14 %).
 *
 * Latency good counts: HDR buckets (3 significant digits) whose highest equivalent value ≤ threshold.
 * The one bucket straddling a threshold (≤ 0.1 % wide, ~1 ms at 2 s) counts as slow, so good counts are
 * a lower bound and attainment is never overstated. Errors are spans with status ERROR (the series key);
 * ERR-v1's inference for UNSET spans (HTTP 5xx, gRPC codes) is not in the series.
 */
import { BURN_WINDOW_MS, type BurnWindow, type WindowEvents } from './burn-rate.js';
import type { LatencyDistribution } from './latency.js';
import { parseSelector } from './label-matchers.js';
import { mergeHistograms, histogramQuantile, exponentialBucketBounds, type Histogram } from './metric-histograms.js';
import { prepareSeries, type PreparedSeries } from './metric-increments.js';
import type { MetricSource } from './metric-source.js';
import type { SloBucket, SloEventReader } from './slo-source.js';
import { emptyEvents, objectivesOf, periodStartMs, SLO_BURN_WINDOWS, sloStatus, type ObjectiveEvents, type OperationEvents, type SloDefinition, type SloEvents, type SloStatus } from './slo.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface SloEventSources {
  reader: SloEventReader;
  metrics: MetricSource;
  /** storage.retention.latencyMinutesMaxAge: minute rows older than this may be gone. */
  minuteRetentionMs: number;
}

export interface CollectedSloEvents extends SloEvents {
  /** Spans SLIs: the service has stored spans; metrics SLIs: every selected metric is stored. */
  dataKnown: boolean;
}

/** The per-window events of one SLO at `nowMs`; the store/metric reads happen here, the math in slo.ts. */
export async function collectSloEvents(slo: SloDefinition, sources: SloEventSources, nowMs: number): Promise<CollectedSloEvents> {
  return slo.indicator.type === 'spans' ? spanEvents(slo, slo.indicator.kinds, sources, nowMs) : metricEvents(slo, sources.metrics, nowMs);
}

/** collectSloEvents then sloStatus: what slo_status shows and what an SLO burn-rate alert rule reads. */
export async function evaluateSlo(slo: SloDefinition, sources: SloEventSources, nowMs: number): Promise<SloStatus> {
  return sloStatus(slo, await collectSloEvents(slo, sources, nowMs), nowMs);
}

/** The minute-index bounds of a window of `windowMs` ending in minute T (see the header). */
export function windowFirstMinute(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / MINUTE_MS) - Math.ceil(windowMs / MINUTE_MS) + 1;
}

/** First minute of the compliance period: rolling windows as burn windows; a calendar month from its first minute. */
export function periodFirstMinute(slo: SloDefinition, nowMs: number): number {
  return 'rollingMs' in slo.period ? windowFirstMinute(nowMs, slo.period.rollingMs) : Math.floor(periodStartMs(slo.period, nowMs) / MINUTE_MS);
}

/**
 * Sums buckets into the windows: a bucket counts in a window when its first minute is in it. Pure; the
 * unit tests drive it with explicit buckets.
 */
export function eventsFromBuckets(slo: SloDefinition, buckets: readonly SloBucket[], operations: readonly string[], nowMs: number): { objectives: Record<string, ObjectiveEvents>; operations: OperationEvents[] } {
  const specs = objectivesOf(slo);
  const out: Record<string, ObjectiveEvents> = Object.fromEntries(specs.map((s) => [s.name, emptyEvents()]));
  const nowMinute = Math.floor(nowMs / MINUTE_MS);
  const firsts = SLO_BURN_WINDOWS.map((w) => [w, windowFirstMinute(nowMs, BURN_WINDOW_MS[w])] as const);
  const periodFirst = periodFirstMinute(slo, nowMs);
  const perOp = operations.map((operation) => ({ operation, total: 0, bad: Object.fromEntries(specs.map((s) => [s.name, 0])) as Record<string, number> }));
  let latencyIndex = 0;
  const badOf = specs.map((s) => (s.kind === 'latency' ? ((i) => (b: SloBucket) => b.total - (b.good[i] ?? 0))(latencyIndex++) : (b: SloBucket) => b.errors));
  for (const b of buckets) {
    if (b.minute > nowMinute) continue;
    const inPeriod = b.minute >= periodFirst;
    specs.forEach((spec, i) => {
      const bad = (badOf[i] as (b: SloBucket) => number)(b);
      const ev = out[spec.name] as ObjectiveEvents;
      if (inPeriod) add(ev.period, b.total, bad);
      for (const [w, first] of firsts) if (b.minute >= first) add(ev.windows[w], b.total, bad);
      const op = perOp[b.op];
      if (inPeriod && op) op.bad[spec.name] = (op.bad[spec.name] ?? 0) + bad;
    });
    const op = perOp[b.op];
    if (inPeriod && op) op.total += b.total;
  }
  return { objectives: out, operations: perOp.filter((o) => o.total > 0) };
}

async function spanEvents(slo: SloDefinition, kinds: number[], sources: SloEventSources, nowMs: number): Promise<CollectedSloEvents> {
  const nowMinute = Math.floor(nowMs / MINUTE_MS);
  const periodFirst = periodFirstMinute(slo, nowMs);
  const fromMinute = Math.min(periodFirst, windowFirstMinute(nowMs, BURN_WINDOW_MS['3d']));
  // Minute rows only where a window starts or ends (hour rows elsewhere: 24-60x fewer rows to read), and
  // only within minute retention, with an hour of margin (retention deletes minute rows in steps).
  const retainedHour = Math.floor((nowMs - sources.minuteRetentionMs) / HOUR_MS) + 2;
  const edges = [nowMinute, periodFirst, ...SLO_BURN_WINDOWS.map((w) => windowFirstMinute(nowMs, BURN_WINDOW_MS[w]))];
  const minuteHours = [...new Set(edges.map((m) => Math.floor(m / 60)))].filter((h) => h >= retainedHour || h === Math.floor(nowMinute / 60));
  const result = await sources.reader.sloBuckets({
    service: slo.service,
    operation: slo.operation,
    kinds,
    thresholdsUs: slo.objectives.latency.map((l) => l.thresholdMs * 1000),
    fromMinute,
    toMinute: nowMinute,
    minuteHours,
    latencyFromMinute: periodFirst,
  });
  const { objectives, operations } = eventsFromBuckets(slo, result.buckets, result.operations, nowMs);
  return {
    objectives,
    operations,
    periodStartMs: periodFirst * MINUTE_MS,
    latencyMs: percentiles(result.latency),
    precision:
      `HDR 3 significant digits: good latency counts are a lower bound (the bucket straddling a threshold, ≤0.1% wide, counts as slow); ` +
      `buckets by span start minute; window edges older than minute retention (${Math.round(sources.minuteRetentionMs / HOUR_MS)}h) resolve to whole hours; errors = status ERROR`,
    dataKnown: result.serviceKnown,
  };
}

function percentiles(latency: LatencyDistribution): SloEvents['latencyMs'] {
  if (latency.count === 0) return undefined;
  const ms = (p: number): number => Math.round(latency.valueAtPercentile(p)) / 1000;
  return { p50: ms(50), p95: ms(95), p99: ms(99) };
}

function add(w: WindowEvents, total: number, bad: number): void {
  w.total += total;
  w.bad += bad;
}

// ---- metrics SLIs ----

const METRIC_MAX_SERIES = 1000;
/** Looked back before the oldest window for a cumulative series' baseline point. */
const METRIC_LOOKBACK_MS = 15 * MINUTE_MS;

interface Interval {
  name: BurnWindow | 'period';
  lo: bigint;
  hi: bigint;
}

async function metricEvents(slo: SloDefinition, source: MetricSource, nowMs: number): Promise<CollectedSloEvents> {
  if (slo.indicator.type !== 'metrics') throw new Error('not a metrics SLI');
  const ind = slo.indicator;
  const periodStart = periodStartMs(slo.period, nowMs);
  const oldest = Math.min(periodStart, nowMs - BURN_WINDOW_MS['3d']);
  const ns = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;
  const intervals: Interval[] = [
    { name: 'period', lo: ns(periodStart), hi: ns(nowMs) },
    ...SLO_BURN_WINDOWS.map((w) => ({ name: w, lo: ns(nowMs - BURN_WINDOW_MS[w]), hi: ns(nowMs) })),
  ];
  let known = true;
  const fetch = async (selector: string | undefined): Promise<PreparedSeries[] | null> => {
    if (selector === undefined) return null;
    const r = await source.fetchSeries({ selection: parseSelector(selector), startNs: ns(oldest - METRIC_LOOKBACK_MS), endNs: ns(nowMs), maxSeries: METRIC_MAX_SERIES });
    known &&= r.metricKnown;
    return r.series.map((s) => prepareSeries(s, ns(oldest)));
  };
  const [good, bad, total, latency] = [await fetch(ind.good), await fetch(ind.bad), await fetch(ind.total), await fetch(ind.latency)];
  const counted = (series: PreparedSeries[] | null, iv: Interval): number | null => {
    if (!series) return null;
    let sum = 0;
    for (const s of series) {
      for (const inc of s.increments) if (inc.t > iv.lo && inc.t <= iv.hi) sum += s.kind === 'distribution' || s.kind === 'summary' ? (inc.count ?? 0) : (inc.value ?? 0);
    }
    return sum;
  };
  const objectives: Record<string, ObjectiveEvents> = {};
  for (const spec of objectivesOf(slo)) {
    const ev = emptyEvents();
    for (const iv of intervals) {
      let w: WindowEvents;
      if (spec.kind === 'latency') {
        const bound = spec.thresholdMs as number;
        w = latencyWindow(latency ?? [], bound, iv);
      } else {
        const g = counted(good, iv);
        const b = counted(bad, iv);
        const t = counted(total, iv) ?? (g ?? 0) + (b ?? 0);
        w = { total: t, bad: Math.max(0, Math.min(t, b ?? t - (g ?? 0))) };
      }
      if (iv.name === 'period') ev.period = w;
      else ev.windows[iv.name] = w;
    }
    objectives[spec.name] = ev;
  }
  return {
    objectives,
    periodStartMs: periodStart,
    latencyMs: latency ? metricPercentiles(latency, intervals[0] as Interval) : undefined,
    precision: 'metric points: windows resolve to the export/scrape interval; latency good counts = histogram buckets whose upper bound ≤ threshold (a lower bound unless the threshold is a bucket bound)',
    dataKnown: known,
  };
}

/** Milliseconds → the histogram's unit ("s", "ms", "us", "ns"; anything else is taken as ms). */
function boundInUnit(thresholdMs: number, unit: string): number {
  switch (unit) {
    case 's': return thresholdMs / 1000;
    case 'us': case 'µs': return thresholdMs * 1000;
    case 'ns': return thresholdMs * 1e6;
    default: return thresholdMs;
  }
}

function latencyWindow(series: PreparedSeries[], thresholdMs: number, iv: Interval): WindowEvents {
  let total = 0;
  let good = 0;
  for (const s of series) {
    const bound = boundInUnit(thresholdMs, s.series.unit);
    for (const inc of s.increments) {
      if (!inc.hist || inc.t <= iv.lo || inc.t > iv.hi) continue;
      total += inc.hist.count;
      good += countAtOrBelow(inc.hist, bound);
    }
  }
  return { total, bad: Math.max(0, total - good) };
}

/** Observations certainly ≤ bound: whole buckets whose upper edge is ≤ bound (OTel buckets are (lo, hi]). */
export function countAtOrBelow(h: Histogram, bound: number): number {
  let n = 0;
  if (h.kind === 'explicit') {
    h.bounds.forEach((b, i) => {
      if (b <= bound) n += h.counts[i] ?? 0;
    });
    return n;
  }
  if (bound >= 0) {
    n += h.zeroCount;
    for (const c of h.negative.values()) n += c;
  }
  for (const [index, c] of h.positive) if (exponentialBucketBounds(h.scale, index)[1] <= bound) n += c;
  return n;
}

function metricPercentiles(series: PreparedSeries[], iv: Interval): SloEvents['latencyMs'] {
  let merged: Histogram | null = null;
  let unit = 'ms';
  for (const s of series) {
    unit = s.series.unit;
    for (const inc of s.increments) {
      if (!inc.hist || inc.t <= iv.lo || inc.t > iv.hi) continue;
      merged = merged === null ? inc.hist : mergeHistograms(merged, inc.hist);
      if (merged === null) return undefined;
    }
  }
  if (merged === null || merged.count === 0) return undefined;
  const toMs = (v: number | null): number => Math.round(((v ?? 0) / boundInUnit(1, unit)) * 1000) / 1000;
  return { p50: toMs(histogramQuantile(merged, 0.5)), p95: toMs(histogramQuantile(merged, 0.95)), p99: toMs(histogramQuantile(merged, 0.99)) };
}
