import { parseSelector, SelectorError } from '../analysis/label-matchers.js';
import { alertRuleSchema, type AlertRuleConfig } from '../config/alert-schema.js';

export type AlertRule = AlertRuleConfig & { source: 'config' | 'mcp' };

/** Validates a rule given over MCP (or read back from the store); errors listed by field, as the caller can fix them. */
export function parseRule(raw: unknown, source: AlertRule['source']): { ok: true; rule: AlertRule } | { ok: false; error: string } {
  const parsed = alertRuleSchema.safeParse(raw);
  if (parsed.success) {
    for (const selector of [...(parsed.data.select ?? []), ...(parsed.data.denominator ?? [])]) {
      try {
        parseSelector(selector);
      } catch (err) {
        if (err instanceof SelectorError) return { ok: false, error: `invalid alert rule: selector ${selector}: ${err.message}` };
        throw err;
      }
    }
    return { ok: true, rule: { ...parsed.data, source } };
  }
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`);
  return { ok: false, error: `invalid alert rule: ${problems.join('; ')}` };
}

const fmt = (n: number): string => String(Math.round(n * 1e6) / 1e6);
const dur = (ms: number): string => {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
};

function target(rule: AlertRule): string {
  return [rule.service, rule.operation].filter((s) => s !== undefined).join(' ') + (rule.span_kind ? ` (${rule.span_kind})` : '');
}

/** The condition in words, for listings and notifications. */
export function describeRule(rule: AlertRule): string {
  const cmp = `${rule.op ?? '>'} ${fmt(rule.threshold ?? 0)}`;
  switch (rule.type) {
    case 'burn_rate':
      return `burn rate of SLO ${rule.slo}${rule.objective ? ` ${rule.objective}` : ''} over the SRE-workbook factor in both windows (${rule.burn_severity} rows)`;
    case 'latency':
      return `p${rule.percentile}(${target(rule)}) over ${dur(rule.window)} ${cmp} ms`;
    case 'error_rate':
      return `errors/spans(${target(rule)}) over ${dur(rule.window)} ${cmp}`;
    case 'metric':
      return `${rule.aggregation}${rule.aggregation === 'quantile' ? `(${rule.quantile})` : ''}(${(rule.select ?? []).join(' + ')})${rule.denominator ? ` / (${rule.denominator.join(' + ')})` : ''} over ${dur(rule.window)} ${cmp}`;
  }
}

/** Labels of the alert a rule raises (Alertmanager identity: alertname + severity + rule labels). */
export function alertLabels(rule: AlertRule): Record<string, string> {
  return {
    alertname: rule.name,
    severity: rule.severity,
    ...(rule.service !== undefined ? { service: rule.service } : {}),
    ...(rule.operation !== undefined ? { operation: rule.operation } : {}),
    ...(rule.slo !== undefined ? { slo: rule.slo } : {}),
    ...rule.labels,
  };
}

/** The rule as stored: the validated fields without the source. */
export function ruleSpec(rule: AlertRule): Record<string, unknown> {
  const { source: _source, ...spec } = rule;
  return spec;
}
