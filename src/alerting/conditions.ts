import { compareThreshold, type ConditionResult } from '../analysis/alert-state.js';
import { burnCondition, burnWindowsFor } from '../analysis/burn-rate.js';
import { parseSelector, SelectorError } from '../analysis/label-matchers.js';
import type { MetricSource } from '../analysis/metric-source.js';
import { MetricQueryError, queryMetrics } from '../analysis/metrics-query.js';
import { SPAN_KIND_NAMES } from '../model/span.js';
import type { LatencyReader, SloBurnSource } from '../store/ports.js';
import type { AlertRule } from './rules.js';

/** Where rule conditions read from. `slo` is absent until SLO definitions are wired (burn_rate rules then report no data). */
export interface AlertSources {
  latency: LatencyReader;
  metrics: MetricSource;
  slo?: SloBurnSource;
}

/** A condition plus why it has no value, when it has none. */
export type Evaluation = ConditionResult & { note?: string };

const MAX_SERIES = 500;

/** Reads what the rule needs over its window ending at nowMs and compares. */
export async function evaluateRule(rule: AlertRule, sources: AlertSources, nowMs: number): Promise<Evaluation> {
  const endNs = BigInt(Math.floor(nowMs)) * 1_000_000n;
  const startNs = endNs - BigInt(rule.window) * 1_000_000n;
  const threshold = (value: number | null, note?: string): Evaluation => ({
    active: compareThreshold(value, rule.op ?? '>', rule.threshold ?? 0),
    value,
    ...(note !== undefined ? { note } : {}),
  });
  const kind = rule.span_kind === undefined ? undefined : SPAN_KIND_NAMES.indexOf(rule.span_kind);
  const scope = { service: rule.service ?? '', ...(rule.operation !== undefined ? { operation: rule.operation } : {}), ...(kind !== undefined ? { kind } : {}), startNs, endNs };
  switch (rule.type) {
    case 'latency': {
      const dist = await sources.latency.latency(scope);
      if (dist === null) return threshold(null, `unknown service or operation: ${[rule.service, rule.operation].filter(Boolean).join(' ')}`);
      if (dist.count === 0) return threshold(null, 'no spans in the window');
      return threshold(Math.round(dist.valueAtPercentile(rule.percentile ?? 95)) / 1000);
    }
    case 'error_rate': {
      const all = await sources.latency.latency(scope);
      if (all === null) return threshold(null, `unknown service or operation: ${[rule.service, rule.operation].filter(Boolean).join(' ')}`);
      if (all.count === 0) return threshold(null, 'no spans in the window');
      const errors = await sources.latency.latency({ ...scope, error: true });
      return threshold((errors?.count ?? 0) / all.count);
    }
    case 'metric':
      return threshold(...(await metricValue(rule, sources.metrics, startNs, endNs)));
    case 'burn_rate': {
      if (!sources.slo) return { active: false, value: null, note: 'SLO definitions are not available in this build' };
      const severity = rule.burn_severity;
      const all = await sources.slo.burnEvents(rule.slo ?? '', burnWindowsFor(severity), nowMs);
      if (all === null) return { active: false, value: null, note: `unknown SLO "${rule.slo}"` };
      const objectives = rule.objective === undefined ? all : all.filter((o) => o.objective === rule.objective);
      if (objectives.length === 0) {
        return { active: false, value: null, note: `SLO "${rule.slo}" has no objective "${rule.objective}"; objectives: ${all.map((o) => o.objective).join(', ')}` };
      }
      let active = false;
      let value: number | null = null;
      let lowTraffic = true;
      for (const o of objectives) {
        const c = burnCondition(o.events, o.target, severity);
        active ||= c.active;
        if (c.value !== null && (value === null || c.value > value)) value = c.value;
        lowTraffic &&= c.rows.every((r) => r.lowTraffic);
      }
      const note = lowTraffic ? { note: 'low traffic: fewer than 10 events in every short window (never fires)' } : {};
      return { active, value: value === null ? null : Math.round(value * 1e4) / 1e4, ...note };
    }
  }
}

async function metricValue(rule: AlertRule, source: MetricSource, startNs: bigint, endNs: bigint): Promise<[number | null, string?]> {
  try {
    const result = await queryMetrics(source, {
      select: (rule.select ?? []).map(parseSelector),
      ...(rule.denominator ? { denominator: rule.denominator.map(parseSelector) } : {}),
      aggregation: rule.aggregation,
      ...(rule.quantile !== undefined ? { quantile: rule.quantile } : {}),
      startNs,
      endNs,
      maxSeries: MAX_SERIES,
      maxPoints: 1,
    });
    if (result.unknownMetrics.length > 0 && result.groups.every((g) => g.value === null)) return [null, `unknown metric: ${result.unknownMetrics.join(', ')}`];
    const value = result.groups[0]?.value ?? null;
    return value === null ? [null, 'no data in the window'] : [value];
  } catch (err) {
    if (err instanceof SelectorError || err instanceof MetricQueryError) return [null, err.message];
    throw err;
  }
}
