import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LabelMatcher } from '../../analysis/metric-source.js';
import { queryMetrics } from '../../analysis/metrics-query.js';
import { linearTrend, timeToThreshold, type TrendPoint } from '../../analysis/trend.js';
import type { McpDeps } from '../deps.js';
import { ToolError, unknownServiceError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema } from '../result.js';
import { resolveRange, timeInput, type ResolvedRange } from '../time-input.js';

const output = z.object({
  trends: z.array(z.looseObject({})),
  meta: metaSchema, hints: z.array(z.string()),
});

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Resource metrics trended when the caller names none (OTel semconv and Prometheus client names). */
const DEFAULT_METRICS = ['process.cpu.utilization', 'process.memory.usage', 'process_cpu_seconds_total', 'process_resident_memory_bytes'];

const sig = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(4)));

interface Series {
  name: string;
  /** What thresholds are keyed by: the metric name, or "throughput". */
  key: string;
  unit: string;
  points: TrendPoint[];
}

export function registerCapacityForecast(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'capacity_forecast',
    {
      description: 'Trends (95% CI) of spans/s and metrics; hours until thresholds {series: limit}.',
      inputSchema: z.object({
        service: z.string().optional(),
        metrics: z.array(z.string()).optional(),
        thresholds: z.record(z.string(), z.number()).optional(),
        ...timeInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const nowMs = deps.now();
      const range = resolveRange(args, nowMs, 24 * HOUR_MS);
      const spanMs = range.endMs - range.startMs;
      // About 120 points; hourly rows beyond 36 h (minutes are kept for two days).
      const minutes = Math.max(1, Math.ceil(spanMs / 120 / MINUTE_MS));
      const stepMs = spanMs > 36 * HOUR_MS ? Math.ceil(minutes / 60) * HOUR_MS : minutes * MINUTE_MS;
      const series = [...(await throughput(deps, args.service, range, stepMs, nowMs)), ...(await resourceMetrics(deps, args.metrics, args.service, range, stepMs))];
      const thresholds = args.thresholds ?? {};
      const rows = series.map((s) => {
        const trend = linearTrend(s.points);
        const threshold = thresholds[s.name] ?? thresholds[s.key];
        const eta = threshold === undefined ? null : timeToThreshold(trend, threshold);
        return {
          series: s.name, unit: s.unit, points: trend.n, now: sig(trend.intercept), slope_per_h: sig(trend.slope),
          slope_ci: trend.slopeLow === null ? null : [sig(trend.slopeLow), sig(trend.slopeHigh)],
          trend: trend.direction === 'none' ? 'no trend' : trend.direction,
          ...(threshold !== undefined ? { threshold } : {}),
          ...(eta ? { eta_h: eta.status === 'eta' ? { estimate: sig(eta.hours), soonest: sig(eta.soonestHours), latest: sig(eta.latestHours) } : eta.status } : {}),
        };
      });
      rows.sort((a, b) => Number(b.trend !== 'no trend') - Number(a.trend !== 'no trend') || a.series.localeCompare(b.series));
      return boundedResult({
        rows, offset: 0, limit: Number.MAX_SAFE_INTEGER, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: `OLS over ${stepMs / MINUTE_MS}-minute steps, 95% slope CI` },
        build: (page) => ({ trends: page }),
        summary: (page) => page.length === 0
          ? 'No spans or resource metrics in the window.'
          : page.slice(0, 4).map((r) => `${r.series}: ${r.trend}${r.trend === 'no trend' ? '' : ` ${r.slope_per_h} ${r.unit}/h`}${r.eta_h !== undefined ? `, threshold ${r.threshold}: ${typeof r.eta_h === 'string' ? r.eta_h : `in ~${r.eta_h.estimate} h (${r.eta_h.soonest}–${r.eta_h.latest ?? '∞'})`}` : ''}`).join('; '),
        hints: rows.some((r) => r.series.startsWith('throughput ')) ? ['find_anomalies(window="1h")', 'list_metrics() for resource metrics to pass as metrics=[...]'] : [],
      });
    },
  );
}

/** Spans/s per service and step; the unfinished current step is left out (it would read as a drop). */
async function throughput(deps: McpDeps, service: string | undefined, range: ResolvedRange, stepMs: number, nowMs: number): Promise<Series[]> {
  const timelines = await deps.timeline.latencyTimeline({ ...(service !== undefined ? { service } : {}), startNs: range.startNs, endNs: range.endNs, stepMs, histograms: false });
  if (timelines === null) throw await unknownServiceError(deps.spans, service ?? '');
  const byService = new Map<string, Map<number, number>>();
  for (const t of timelines) {
    const steps = byService.get(t.service) ?? new Map<number, number>();
    byService.set(t.service, steps);
    for (const s of t.steps) steps.set(s.startMs, (steps.get(s.startMs) ?? 0) + s.count);
  }
  const out: Series[] = [];
  for (const [name, steps] of byService) {
    const points: TrendPoint[] = [];
    for (let t = Math.ceil(range.startMs / stepMs) * stepMs; t + stepMs <= Math.min(range.endMs, nowMs); t += stepMs) {
      points.push({ x: (t + stepMs / 2 - range.endMs) / HOUR_MS, y: (steps.get(t) ?? 0) / (stepMs / 1000) });
    }
    out.push({ name: `throughput ${name}`, key: 'throughput', unit: 'spans/s', points });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One series per metric (all its series summed/averaged). With a service, only series whose service.name
 * label is that service; metrics without that label (e.g. scraped ones labelled by job) are taken whole,
 * and the series name says so.
 */
async function resourceMetrics(deps: McpDeps, named: string[] | undefined, service: string | undefined, range: ResolvedRange, stepMs: number): Promise<Series[]> {
  const out: Series[] = [];
  for (const name of named ?? DEFAULT_METRICS) {
    const found = (await deps.metrics.listMetrics({ nameContains: name, maxLabelValues: 0, limit: 100 })).metrics.find((m) => m.name === name);
    if (!found) {
      if (named) throw new ToolError(`no metric "${name}" is stored: call list_metrics for the names`);
      continue;
    }
    const counter = (found.type === 'sum' && found.monotonic) || found.type === 'histogram' || found.type === 'exponential_histogram' || found.type === 'summary';
    const query = async (matchers: LabelMatcher[]) => queryMetrics(deps.metrics, {
      select: [{ metric: name, matchers }], aggregation: counter ? 'rate' : 'avg', startNs: range.startNs, endNs: range.endNs,
      stepNs: BigInt(stepMs) * 1_000_000n, maxSeries: 1000, maxPoints: 1000,
    });
    let result = service === undefined ? null : await query([{ label: 'service.name', op: '=', value: service }]);
    const ofService = result !== null && result.groups.length > 0;
    if (!ofService) result = await query([]);
    const points = (result?.groups[0]?.points ?? [])
      .filter((p): p is { timeNs: bigint; value: number } => p.value !== null)
      .map((p) => ({ x: (Number(p.timeNs / 1_000_000n) - range.endMs) / HOUR_MS, y: p.value }));
    out.push({ name: service === undefined || ofService ? name : `${name} (all services)`, key: name, unit: counter ? `${found.unit || '1'}/s` : found.unit || '1', points });
  }
  return out;
}
