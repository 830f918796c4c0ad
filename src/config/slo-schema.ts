import { z } from 'zod';
import { duration } from './units.js';

/**
 * SLO definitions (`slos:` in the config file, and manage_slo over MCP, which takes the same shape).
 * OpenSLO-like (openslo/v1 SLO.spec, flattened): a service (+ optional operation), a compliance period
 * (`timeWindow`: rolling duration or calendar month), an indicator and ratio objectives. Example:
 * config/slo-example.yaml. The parsed form is analysis/slo.ts `SloDefinition`.
 */

/** OTLP SpanKind numbers (config may not import the model). */
const KINDS = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

const fraction = z.number().gt(0).lt(1);
/** 0.999, or a percentage string "99.9%". */
const target = z.union([fraction, z.string().regex(/^\d+(\.\d+)?%$/, 'a fraction like 0.999 or a percentage like "99.9%"')]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  // toPrecision: 99.9 / 100 is 0.9990000000000001 in binary floating point.
  const f = Number((Number(v.slice(0, -1)) / 100).toPrecision(12));
  if (!(f > 0 && f < 1)) {
    ctx.addIssue({ code: 'custom', message: `${v} must be between 0% and 100% (exclusive)` });
    return z.NEVER;
  }
  return f;
});

const selector = z.string().min(1).describe('PromQL-style selector, e.g. requests_total{outcome="ok"}');

const period = z
  .union([
    duration,
    z.object({ calendar: z.literal('month') }).strict(),
  ])
  .transform((v, ctx) => {
    if (typeof v === 'object') return { calendar: 'month' as const };
    if (v < 3_600_000 || v > 35 * 86_400_000) {
      ctx.addIssue({ code: 'custom', message: 'a rolling period must be between 1h and 35d (hourly latency retention), e.g. 30d' });
      return z.NEVER;
    }
    return { rollingMs: v };
  });

const indicator = z
  .union([
    z.object({ spans: z.object({ kinds: z.array(z.enum(['internal', 'server', 'client', 'producer', 'consumer'])).min(1).default(['server', 'consumer']) }).strict() }).strict(),
    z
      .object({
        metrics: z
          .object({ good: selector.optional(), bad: selector.optional(), total: selector.optional(), latency: selector.optional().describe('histogram metric') })
          .strict(),
      })
      .strict(),
  ])
  .transform((v) =>
    'spans' in v
      ? { type: 'spans' as const, kinds: [...new Set(v.spans.kinds.map((k) => KINDS[k]))] }
      : { type: 'metrics' as const, good: v.metrics.good, bad: v.metrics.bad, total: v.metrics.total, latency: v.metrics.latency },
  );

export const sloSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits and . _ : - (at most 100)'),
    description: z.string().max(500).optional(),
    service: z.string().min(1),
    /** A span name of the service (for HTTP servers "{method} {route}"); all of its entry spans when absent. */
    operation: z.string().min(1).optional(),
    period: period.prefault('30d'),
    /** Default: entry spans (SERVER, CONSUMER) of the service. */
    indicator: indicator.prefault({ spans: {} }),
    objectives: z
      .object({
        availability: target.optional(),
        latency: z.array(z.object({ thresholdMs: z.number().positive(), target }).strict()).max(5).default([]),
        /** Maximum error rate, e.g. 0.001 or "0.1%". */
        errorRate: target.optional(),
      })
      .strict()
      .refine((o) => o.availability !== undefined || o.errorRate !== undefined || o.latency.length > 0, { message: 'give at least one objective: availability, latency or errorRate' })
      .refine((o) => new Set(o.latency.map((l) => l.thresholdMs)).size === o.latency.length, { message: 'latency thresholds must differ' }),
  })
  .strict()
  .superRefine((slo, ctx) => {
    const ind = slo.indicator;
    if (ind.type !== 'metrics') return;
    const ratio = slo.objectives.availability !== undefined || slo.objectives.errorRate !== undefined;
    if (ratio && (ind.total === undefined ? ind.good === undefined || ind.bad === undefined : ind.good === undefined && ind.bad === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['indicator', 'metrics'], message: 'availability/errorRate from metrics need total with good or bad (or good and bad)' });
    }
    if (slo.objectives.latency.length > 0 && ind.latency === undefined) {
      ctx.addIssue({ code: 'custom', path: ['indicator', 'metrics', 'latency'], message: 'latency objectives from metrics need a latency histogram selector' });
    }
  });

export const slosSchema = z
  .array(sloSchema)
  .default([])
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, { message: 'SLO names must be unique' });

export type SloConfig = z.output<typeof sloSchema>;

/** Validates one definition (config shape); problems are path-qualified like config errors. */
export function parseSloDefinition(raw: unknown): { ok: true; value: SloConfig } | { ok: false; problems: string[] } {
  const r = sloSchema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problems: r.error.issues.map((i) => `${i.path.join('.') || '(definition)'}: ${i.message}`) };
}

const KIND_NAMES: Record<number, string> = Object.fromEntries(Object.entries(KINDS).map(([k, v]) => [v, k]));

function durationText(ms: number): string | number {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return ms;
}

/** A parsed definition back in the config shape (canonical: what is stored and shown; parses to the same value). */
export function sloToConfigShape(slo: SloConfig): Record<string, unknown> {
  const ind = slo.indicator;
  const strip = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return strip({
    name: slo.name,
    description: slo.description,
    service: slo.service,
    operation: slo.operation,
    period: 'rollingMs' in slo.period ? durationText(slo.period.rollingMs) : { calendar: 'month' },
    indicator: ind.type === 'spans' ? { spans: { kinds: ind.kinds.map((k) => KIND_NAMES[k]) } } : { metrics: strip({ good: ind.good, bad: ind.bad, total: ind.total, latency: ind.latency }) },
    objectives: strip({ availability: slo.objectives.availability, latency: slo.objectives.latency, errorRate: slo.objectives.errorRate }),
  });
}
