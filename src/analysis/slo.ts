/**
 * SLO-v1 (ANALYSIS.md §5.5): attainment, error budget, burn rates and the SRE-workbook multi-window alerts
 * of one SLO, computed from event counts per window. Pure: the counts come from slo-events.ts (HDR
 * latency series or metric counters), `nowMs` is passed in.
 *
 * Every objective is a ratio of good to valid events over the same request population:
 * - availability: bad = error request; target T, allowed bad = (1 − T)·n.
 * - errorRate: the same bad events against a maximum rate M, i.e. a ratio objective with target 1 − M
 *   (it "shares the availability budget": with M = 1 − T both report the same numbers).
 * - latency: bad = duration > threshold; target = the fraction that must be ≤ threshold. `P95 < 2 s`
 *   is `fraction(≤ 2000 ms) ≥ 0.95` (§5.2): additive across windows, so it has a budget and burn rates.
 */
import { BURN_WINDOW_MS, evaluateBurnRules, LOW_TRAFFIC_EVENTS, burnRate, type BurnRateAlert, type BurnWindow, type WindowEvents } from './burn-rate.js';

export interface LatencyObjective {
  thresholdMs: number;
  /** Fraction of requests that must take ≤ thresholdMs (0 < target < 1). */
  target: number;
}

export type SloPeriod = { rollingMs: number } | { calendar: 'month' };

/** Where the events come from. */
export type SloIndicator =
  /** Entry spans (OTLP kinds, default SERVER and CONSUMER) of the service, from the HDR latency series. */
  | { type: 'spans'; kinds: number[] }
  /**
   * Metric series by PromQL-style selector: good or bad with total (counters; availability and error
   * rate), and/or a latency histogram (latency objectives: its count at or below each threshold).
   */
  | { type: 'metrics'; good?: string | undefined; bad?: string | undefined; total?: string | undefined; latency?: string | undefined };

export interface SloDefinition {
  name: string;
  description?: string | undefined;
  service: string;
  /** Only this span name (an operation / route) of the service. */
  operation?: string | undefined;
  period: SloPeriod;
  indicator: SloIndicator;
  objectives: {
    availability?: number | undefined;
    latency: LatencyObjective[];
    /** Maximum error rate (bad fraction). */
    errorRate?: number | undefined;
  };
}

export type ObjectiveKind = 'availability' | 'latency' | 'error_rate';

/** One ratio objective as evaluated: `target` is the good fraction required. */
export interface ObjectiveSpec {
  name: string;
  kind: ObjectiveKind;
  target: number;
  thresholdMs?: number;
  /** error_rate: the configured maximum. */
  maxRate?: number;
}

/** The objectives of an SLO in a fixed order: availability, latency (by threshold), error rate. */
export function objectivesOf(slo: SloDefinition): ObjectiveSpec[] {
  const out: ObjectiveSpec[] = [];
  const o = slo.objectives;
  if (o.availability !== undefined) out.push({ name: 'availability', kind: 'availability', target: o.availability });
  for (const l of o.latency) out.push({ name: `latency_le_${l.thresholdMs}ms`, kind: 'latency', target: l.target, thresholdMs: l.thresholdMs });
  if (o.errorRate !== undefined) out.push({ name: 'error_rate', kind: 'error_rate', target: 1 - o.errorRate, maxRate: o.errorRate });
  return out;
}

/** The windows SLO status needs, besides the period. */
export const SLO_BURN_WINDOWS: readonly BurnWindow[] = ['5m', '30m', '1h', '6h', '3d'];

/** Events of one objective: per burn window and over the compliance period. */
export interface ObjectiveEvents {
  period: WindowEvents;
  windows: Record<BurnWindow, WindowEvents>;
}

/** An operation's share of the bad events over the period (spans SLIs only). */
export interface OperationEvents {
  operation: string;
  total: number;
  /** Bad events per objective name. */
  bad: Record<string, number>;
}

/** What slo-events.ts gathers for one SLO: everything sloStatus needs. */
export interface SloEvents {
  /** Per objective name. */
  objectives: Record<string, ObjectiveEvents>;
  /** Period start and the evaluation time as the buckets resolved them. */
  periodStartMs: number;
  /** Nearest-rank-like percentiles over the period (HDR), when the SLI has a latency distribution. */
  latencyMs?: { p50: number; p95: number; p99: number } | undefined;
  operations?: OperationEvents[] | undefined;
  /** How exact the counts are (e.g. HDR bucket precision, hour buckets beyond minute retention). */
  precision: string;
}

export interface ObjectiveStatus extends ObjectiveSpec {
  events: number;
  bad: number;
  sli: number | null;
  compliant: boolean;
  allowedBad: number;
  /** bad / allowedBad; may exceed 1. */
  budgetConsumed: number;
  /** 1 − budgetConsumed; may be negative. */
  budgetRemaining: number;
  /** allowedBad − bad, in events. */
  budgetRemainingEvents: number;
  burnRates: Record<BurnWindow, number>;
  /** At the current (1 h) burn rate, when the remaining budget runs out; null when not burning or already out. */
  exhaustionAtMs: number | null;
  /** latency: the nearest-rank percentile at the target fraction, from the HDR histogram of the period. */
  percentileValueMs?: number;
  alerts: BurnRateAlert[];
  state: SloVerdict;
}

export type SloVerdict = 'ok' | 'at_risk' | 'violated';

export interface SloStatus {
  name: string;
  service: string;
  operation?: string;
  periodStartMs: number;
  periodEndMs: number;
  evaluatedAtMs: number;
  /** Events of the first objective over the period (all objectives share the request population). */
  requests: number;
  lowTraffic: boolean;
  objectives: ObjectiveStatus[];
  topConsumers: { operation: string; events: number; bad: Record<string, number>; budgetShare: number }[];
  latencyMs?: { p50: number; p95: number; p99: number };
  verdict: SloVerdict;
  precision: string;
}

/**
 * Start of the compliance period that ends at `nowMs`: rolling = `nowMs − length`; calendar month = the
 * first instant of the current UTC month.
 */
export function periodStartMs(period: SloPeriod, nowMs: number): number {
  if ('rollingMs' in period) return nowMs - period.rollingMs;
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Length of the whole period (a calendar month: its full length), against which burn rates are scaled. */
export function periodLengthMs(period: SloPeriod, nowMs: number): number {
  if ('rollingMs' in period) return period.rollingMs;
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * The status of one SLO from its event counts (SLO-v1). Verdict per objective: `violated` when the
 * period's SLI is below target (budget spent), `at_risk` when a burn-rate alert fires or, at the current
 * 1 h burn rate, the budget would run out before the calendar period ends (rolling: within one period
 * length from now, i.e. burn(1h) > budget remaining), else `ok`; the SLO's verdict is the worst of its
 * objectives.
 */
export function sloStatus(slo: SloDefinition, events: SloEvents, nowMs: number): SloStatus {
  const specs = objectivesOf(slo);
  const periodEnd = 'rollingMs' in slo.period ? nowMs : events.periodStartMs + periodLengthMs(slo.period, nowMs);
  // Rolling: at risk if the budget would run out within one period from now; calendar: before month end.
  const horizon = 'rollingMs' in slo.period ? nowMs + slo.period.rollingMs : periodEnd;
  const objectives = specs.map((spec) => objectiveStatus(spec, events.objectives[spec.name] ?? emptyEvents(), slo.period, nowMs, horizon, events));
  const requests = objectives[0]?.events ?? 0;
  const verdict = worst(objectives.map((o) => o.state));
  return {
    name: slo.name,
    service: slo.service,
    ...(slo.operation !== undefined ? { operation: slo.operation } : {}),
    periodStartMs: events.periodStartMs,
    periodEndMs: periodEnd,
    evaluatedAtMs: nowMs,
    requests,
    lowTraffic: objectives.some((o) => o.alerts.some((a) => a.lowTraffic)),
    objectives,
    topConsumers: topConsumers(events.operations ?? [], objectives),
    ...(events.latencyMs ? { latencyMs: events.latencyMs } : {}),
    verdict,
    precision: events.precision,
  };
}

export function emptyEvents(): ObjectiveEvents {
  const zero = (): WindowEvents => ({ total: 0, bad: 0 });
  return { period: zero(), windows: { '5m': zero(), '30m': zero(), '1h': zero(), '6h': zero(), '3d': zero() } };
}

function objectiveStatus(
  spec: ObjectiveSpec,
  ev: ObjectiveEvents,
  period: SloPeriod,
  nowMs: number,
  horizonMs: number,
  events: SloEvents,
): ObjectiveStatus {
  const { total, bad } = ev.period;
  const allowedBad = (1 - spec.target) * total;
  // No events: nothing spent. Bad events with a zero allowance (tiny n): the budget is gone.
  const budgetConsumed = bad === 0 ? 0 : allowedBad > 0 ? bad / allowedBad : Number.POSITIVE_INFINITY;
  const budgetRemaining = 1 - budgetConsumed;
  const sli = total > 0 ? (total - bad) / total : null;
  const compliant = sli === null || sli >= spec.target;
  const burnRates = Object.fromEntries(SLO_BURN_WINDOWS.map((w) => [w, burnRate(ev.windows[w], spec.target)])) as Record<BurnWindow, number>;
  const alerts = evaluateBurnRules(ev.windows, spec.target);
  const length = periodLengthMs(period, nowMs);
  // Budget consumed per ms at burn rate b is b / period length (SRE workbook); remaining / that = time left.
  const burn = burnRates['1h'];
  const exhaustionAtMs =
    burn > 0 && budgetRemaining > 0 && Number.isFinite(burnRate(ev.windows['1h'], spec.target))
      ? nowMs + (budgetRemaining * length) / burn
      : null;
  const percentileValueMs = spec.kind === 'latency' ? percentileFor(spec.target, events.latencyMs) : undefined;
  let state: SloVerdict = 'ok';
  if (!compliant) state = 'violated';
  else if (alerts.some((a) => a.firing) || (exhaustionAtMs !== null && exhaustionAtMs < horizonMs)) state = 'at_risk';
  return {
    ...spec,
    events: total,
    bad,
    sli,
    compliant,
    allowedBad,
    budgetConsumed,
    budgetRemaining,
    budgetRemainingEvents: allowedBad - bad,
    burnRates,
    exhaustionAtMs,
    ...(percentileValueMs !== undefined ? { percentileValueMs } : {}),
    alerts,
    state,
  };
}

/** The reported percentile matching a latency target (0.95 → p95, 0.99 → p99), when it was measured. */
function percentileFor(target: number, latency: SloEvents['latencyMs']): number | undefined {
  if (!latency) return undefined;
  if (Math.abs(target - 0.95) < 1e-9) return latency.p95;
  if (Math.abs(target - 0.99) < 1e-9) return latency.p99;
  if (Math.abs(target - 0.5) < 1e-9) return latency.p50;
  return undefined;
}

/**
 * Operations ranked by the share of the period's error budget they spent: per operation, the sum over
 * objectives of its bad events ÷ that objective's allowed bad events, divided by the number of objectives.
 */
function topConsumers(operations: OperationEvents[], objectives: ObjectiveStatus[]): SloStatus['topConsumers'] {
  const rows = operations.map((op) => {
    let share = 0;
    for (const o of objectives) {
      const bad = op.bad[o.name] ?? 0;
      if (bad > 0) share += o.allowedBad > 0 ? bad / o.allowedBad : Number.POSITIVE_INFINITY;
    }
    return { operation: op.operation, events: op.total, bad: op.bad, budgetShare: objectives.length > 0 ? share / objectives.length : 0 };
  });
  return rows
    .filter((r) => r.budgetShare > 0)
    .sort((a, b) => b.budgetShare - a.budgetShare || a.operation.localeCompare(b.operation));
}

function worst(states: SloVerdict[]): SloVerdict {
  if (states.includes('violated')) return 'violated';
  if (states.includes('at_risk')) return 'at_risk';
  return 'ok';
}

export { BURN_WINDOW_MS, LOW_TRAFFIC_EVENTS };
