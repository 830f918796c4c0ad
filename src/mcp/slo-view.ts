import type { SloPeriod, SloStatus } from '../analysis/slo.js';
import type { StoredSlo } from '../store/ports.js';
import { iso, round } from './result.js';

/** "30d", "12h", or "calendar month". */
export function periodText(period: SloPeriod): string {
  if (!('rollingMs' in period)) return 'calendar month';
  const ms = period.rollingMs;
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms}ms`;
}

const frac = (x: number | null): number | null => (x === null ? null : Number.isFinite(x) ? round(x, 6) : null);

/** One line per SLO for the overview (all SLOs). */
export function sloSummaryRow(stored: StoredSlo, s: SloStatus): Record<string, unknown> {
  return {
    name: s.name,
    service: s.service,
    ...(s.operation !== undefined ? { operation: s.operation } : {}),
    period: periodText(stored.definition.period),
    verdict: s.verdict,
    requests: s.requests,
    low_traffic: s.lowTraffic,
    objectives: s.objectives.map((o) => ({
      name: o.name,
      target: o.target,
      sli: frac(o.sli),
      budget_remaining: frac(o.budgetRemaining),
      burn_1h: frac(o.burnRates['1h']),
      firing: o.alerts.filter((a) => a.firing).map((a) => `${a.severity} ${a.long}/${a.short}`),
      state: o.state,
    })),
  };
}

/** Everything about one SLO: objectives with budget and burn rates, every alert row, top budget consumers. */
export function sloDetail(stored: StoredSlo, s: SloStatus, maxConsumers: number): Record<string, unknown> {
  return {
    name: s.name,
    service: s.service,
    ...(s.operation !== undefined ? { operation: s.operation } : {}),
    source: stored.source,
    period: periodText(stored.definition.period),
    period_start: iso(s.periodStartMs),
    period_end: iso(s.periodEndMs),
    evaluated_at: iso(s.evaluatedAtMs),
    verdict: s.verdict,
    requests: s.requests,
    low_traffic: s.lowTraffic,
    ...(s.latencyMs ? { latency_ms: s.latencyMs } : {}),
    objectives: s.objectives.map((o) => ({
      name: o.name,
      kind: o.kind,
      target: o.target,
      ...(o.thresholdMs !== undefined ? { threshold_ms: o.thresholdMs } : {}),
      ...(o.maxRate !== undefined ? { max_rate: o.maxRate } : {}),
      events: o.events,
      bad: o.bad,
      sli: frac(o.sli),
      compliant: o.compliant,
      allowed_bad: round(o.allowedBad, 3),
      budget_consumed: frac(o.budgetConsumed),
      budget_remaining: frac(o.budgetRemaining),
      budget_remaining_events: round(o.budgetRemainingEvents, 3),
      burn_rates: Object.fromEntries(Object.entries(o.burnRates).map(([w, b]) => [w, frac(b)])),
      exhaustion_at: o.exhaustionAtMs === null ? null : iso(o.exhaustionAtMs),
      ...(o.percentileValueMs !== undefined ? { percentile_value_ms: o.percentileValueMs } : {}),
      state: o.state,
    })),
    alerts: s.objectives.flatMap((o) =>
      o.alerts.map((a) => ({
        objective: o.name,
        severity: a.severity,
        windows: `${a.long}/${a.short}`,
        factor: a.factor,
        long_burn_rate: frac(a.longBurnRate),
        short_burn_rate: frac(a.shortBurnRate),
        long_events: a.longEvents,
        short_events: a.shortEvents,
        low_traffic: a.lowTraffic,
        firing: a.firing,
      })),
    ),
    top_consumers: s.topConsumers.slice(0, maxConsumers).map((c) => ({ operation: c.operation, events: c.events, bad: c.bad, budget_share: frac(c.budgetShare) })),
    precision: s.precision,
  };
}

/** Short text for the content mirror. */
export function sloLine(s: SloStatus): string {
  const parts = s.objectives.map((o) => `${o.name} ${o.sli === null ? 'no data' : `${round(o.sli * 100, 3)}%`} (target ${round(o.target * 100, 3)}%, budget left ${Number.isFinite(o.budgetRemaining) ? `${round(o.budgetRemaining * 100, 1)}%` : 'none'})`);
  return `${s.name} [${s.service}${s.operation ? ` ${s.operation}` : ''}]: ${s.verdict}, ${s.requests} requests${s.lowTraffic ? ' (low traffic)' : ''}; ${parts.join('; ')}`;
}
