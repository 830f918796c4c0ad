import { z } from 'zod';
import { duration } from './units.js';

/**
 * The `alerting:` section: rules evaluated on an interval and the webhooks they notify. One rule schema
 * serves config rules and rules upserted over MCP (manage_alert_rule), so both are validated alike.
 */

const labelMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'label names are [A-Za-z_][A-Za-z0-9_]*'), z.string()).default({});

export const ALERT_RULE_TYPES = ['burn_rate', 'latency', 'error_rate', 'metric'] as const;
export const ALERT_OPS = ['>', '>=', '<', '<='] as const;

export const alertRuleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'names are 1-100 of A-Za-z0-9_.:-'),
    type: z.enum(ALERT_RULE_TYPES),
    /** burn_rate: the SLO name (SLO-v1); the rule fires when any SRE-workbook row of `burn_severity` fires. */
    slo: z.string().min(1).optional(),
    burn_severity: z.enum(['page', 'ticket', 'any']).default('page'),
    /** burn_rate: one objective of the SLO (availability, latency_le_2000ms, error_rate); every objective when absent. */
    objective: z.string().min(1).optional(),
    /** latency, error_rate: the service (and optionally the operation and span kind). */
    service: z.string().min(1).optional(),
    operation: z.string().min(1).optional(),
    span_kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer']).optional(),
    /** latency: the percentile compared, in (0, 100]. */
    percentile: z.number().gt(0).max(100).optional(),
    /** metric: PromQL-style selectors summed (numerator) and an optional denominator (value = select / denominator). */
    select: z.array(z.string().min(1)).min(1).max(10).optional(),
    denominator: z.array(z.string().min(1)).min(1).max(10).optional(),
    aggregation: z.enum(['increase', 'rate', 'sum', 'count', 'avg', 'min', 'max', 'last', 'quantile']).default('increase'),
    quantile: z.number().min(0).max(1).optional(),
    /** latency, error_rate, metric: the window the value is computed over, ending at evaluation time. */
    window: duration.prefault('5m'),
    op: z.enum(ALERT_OPS).optional(),
    /** latency: milliseconds; error_rate: a fraction 0..1; metric: the query's unit. */
    threshold: z.number().optional(),
    /** How long the condition must hold before the alert fires (pending until then). */
    for: duration.prefault('0s'),
    severity: z.string().min(1).max(40).default('warning'),
    labels: labelMap,
    annotations: z.record(z.string(), z.string().max(2000)).default({}),
    /** Names of `alerting.receivers` notified on firing and on resolved. */
    receivers: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const need = (field: keyof typeof rule, why: string): void => {
      if (rule[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${rule.type} rules need ${field} (${why})` });
    };
    if (rule.type === 'burn_rate') need('slo', 'the SLO whose error budget burns');
    if (rule.type === 'latency' || rule.type === 'error_rate') need('service', 'e.g. "checkout"');
    if (rule.type === 'latency') need('percentile', 'e.g. 95');
    if (rule.type === 'metric') need('select', 'e.g. ["cache_hits_total"]');
    if (rule.type === 'metric' && rule.aggregation === 'quantile') need('quantile', 'q in [0,1]');
    if (rule.type !== 'burn_rate') {
      need('op', 'one of > >= < <=');
      need('threshold', 'the value compared with op');
    }
    if (rule.type !== 'burn_rate' && rule.window < 1000) ctx.addIssue({ code: 'custom', path: ['window'], message: 'window must be at least 1s' });
  });

export type AlertRuleInput = z.input<typeof alertRuleSchema>;
export type AlertRuleConfig = z.output<typeof alertRuleSchema>;

export const alertReceiverSchema = z
  .object({
    name: z.string().min(1),
    url: z.url({ protocol: /^https?$/ }),
    /** json: spanlens' own body; alertmanager: the Alertmanager webhook v4 body (what Alertmanager receivers accept). */
    format: z.enum(['json', 'alertmanager']).default('json'),
    headers: z.record(z.string(), z.string()).default({}),
    timeout: duration.prefault('5s'),
    /** Delivery attempts per notification (first try included); each is recorded in the alert history. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** Wait before the second attempt; doubles after every failed attempt. */
    backoff: duration.prefault('1s'),
  })
  .strict();

export type AlertReceiverConfig = z.output<typeof alertReceiverSchema>;

export const alertingSchema = z
  .object({
    /** How often every rule is evaluated. */
    interval: duration.prefault('30s'),
    /** How long state changes and delivery attempts are kept. */
    historyRetention: duration.prefault('30d'),
    /** Base of generatorURL in notifications; default http://<api endpoint>. */
    externalUrl: z.url({ protocol: /^https?$/ }).optional(),
    receivers: z.array(alertReceiverSchema).default([]),
    rules: z.array(alertRuleSchema).default([]),
  })
  .strict()
  .superRefine((alerting, ctx) => {
    if (alerting.interval < 10) ctx.addIssue({ code: 'custom', path: ['interval'], message: 'interval must be at least 10ms' });
    const receivers = new Set<string>();
    alerting.receivers.forEach((r, i) => {
      if (receivers.has(r.name)) ctx.addIssue({ code: 'custom', path: ['receivers', i, 'name'], message: `duplicate receiver "${r.name}"` });
      receivers.add(r.name);
    });
    const rules = new Set<string>();
    alerting.rules.forEach((rule, i) => {
      if (rules.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule "${rule.name}"` });
      rules.add(rule.name);
      rule.receivers.forEach((name, j) => {
        if (!receivers.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'receivers', j], message: `unknown receiver "${name}"; defined: ${[...receivers].join(', ') || '(none)'}` });
        }
      });
    });
  });

export type AlertingConfig = z.output<typeof alertingSchema>;
