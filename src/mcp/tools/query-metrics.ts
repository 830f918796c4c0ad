import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { MetricQueryError, queryMetrics, listMetrics, type MetricQueryGroup } from '../../analysis/metrics-query.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, clipText, iso, metaSchema } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';
import { parseAgg, parseSelectors, stepFor, unknownMetricError } from '../metric-args.js';

const MS_NS = 1_000_000n;

export function registerListMetrics(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'list_metrics',
    {
      description: 'Stored metrics (name contains match): type, unit, labels.',
      inputSchema: z.object({ match: z.string().optional(), ...budgetInput }),
      outputSchema: z.looseObject({ metrics: z.array(z.looseObject({})), meta: metaSchema, hints: z.array(z.string()) }),
    },
    async (args) => {
      const found = await listMetrics(deps.metrics, { ...(args.match !== undefined ? { nameContains: args.match } : {}), limit: 5000, maxLabelValues: 3 });
      const rows = found.metrics.map((m) => ({
        name: m.name, type: m.type, ...(m.unit ? { unit: m.unit } : {}), series: m.seriesCount,
        ...(m.type === 'sum' ? { monotonic: m.monotonic } : {}),
        labels: Object.fromEntries(m.labels.map((l) => [l.key, l.values.map((v) => clipText(v, 40)).join('|') + (l.valuesTruncated ? '|…' : '')])),
      }));
      const first = rows[0];
      return boundedResult({
        rows, offset: 0, limit: Math.max(rows.length, 1), budget: budgetOf(args.max_bytes, deps.limits),
        build: (page) => ({ metrics: page }),
        summary: (page) => page.length === 0 ? (args.match ? `No metric name contains "${args.match}".` : 'No metrics stored yet.') : `${rows.length} metrics: ${page.slice(0, 10).map((m) => m.name).join(', ')}${page.length > 10 ? ', …' : ''}.`,
        hints: first ? [`query_metrics(select="${first.name}", agg="${first.type === 'sum' ? 'rate' : first.type.includes('histogram') ? 'p99' : 'last'}")`] : [],
      });
    },
  );
}


export function registerQueryMetrics(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'query_metrics',
    {
      description: 'Aggregate metric series (or per step) by labels; denominator → ratio.',
      inputSchema: z.object({
        select: z.string().describe('a{l="v"} + b'),
        denominator: z.string().optional(),
        agg: z.string().optional().describe('rate|increase|sum|avg|max|last|p99…'),
        by: z.string().optional(),
        step: z.string().optional(),
        limit: z.number().optional(),
        ...timeInput, ...budgetInput,
      }),
      outputSchema: z.looseObject({ groups: z.array(z.looseObject({})), meta: metaSchema, hints: z.array(z.string()) }),
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const select = parseSelectors(args.select, 'select');
      const denominator = args.denominator !== undefined ? parseSelectors(args.denominator, 'denominator') : undefined;
      const agg = parseAgg(args.agg);
      const maxPoints = 60;
      const step = stepFor(args.step, range.endNs - range.startNs, maxPoints);
      const limit = Math.min(Math.max(Math.floor(args.limit ?? 20), 1), 200);
      let result;
      try {
        result = await queryMetrics(deps.metrics, {
          select, ...(denominator ? { denominator } : {}), ...agg,
          ...(args.by ? { groupBy: args.by.split(',').map((s) => s.trim()).filter((s) => s !== '') } : {}),
          startNs: range.startNs, endNs: range.endNs, ...(step ? { stepNs: step.stepNs } : {}),
          // Groups beyond `limit` are still evaluated so that the most informative ones can be kept.
          maxSeries: 2000, maxPoints,
        });
      } catch (err) {
        if (err instanceof MetricQueryError) throw new ToolError(err.message);
        throw err;
      }
      if (result.groups.length === 0 && result.unknownMetrics.length > 0) throw await unknownMetricError(deps.metrics, result.unknownMetrics);
      // Largest values first: a cut keeps the groups that matter most.
      const rows = [...result.groups].sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity)).map((g) => groupJson(g));
      const notes = [
        ...(step?.widened ? [`step widened to ${Number(step.stepNs / MS_NS) / 1000}s to fit max_points=${maxPoints}`] : []),
        ...(result.truncated ? ['series beyond 2000 per selector were not read: narrow the selector'] : []),
        ...(result.unknownMetrics.length > 0 ? [`not stored: ${result.unknownMetrics.join(', ')}`] : []),
        ...result.warnings,
      ];
      const aggName = agg.quantile !== undefined ? `p${Number((agg.quantile * 100).toPrecision(6))}` : agg.aggregation;
      return boundedResult({
        rows, offset: 0, limit, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window },
        build: (page) => ({ agg: aggName, unit: result.unit, ...(step ? { step_s: Number(step.stepNs / MS_NS) / 1000 } : {}), groups: page, ...(notes.length > 0 ? { notes } : {}) }),
        summary: (page) => page.length === 0 ? 'No series match in the window; check names and labels with list_metrics.' :
          `${aggName}${denominator ? ' ratio' : ''}: ${page.slice(0, 6).map((g) => `${labelText(g.labels)} ${g.value ?? 'n/a'}`).join('; ')}${page.length > 6 ? '; …' : ''}`,
        hints: step ? [] : [`add step="${suggestStep(range.endMs - range.startMs)}" for a time series`],
      });
    },
  );
}

function groupJson(g: MetricQueryGroup): { labels: Record<string, string>; value: number | null; series: number; points?: { t: string; v: number | null }[] } {
  return {
    labels: g.labels, value: roundValue(g.value), series: g.seriesCount,
    ...(g.points ? { points: g.points.map((p) => ({ t: iso(Number(p.timeNs / MS_NS)), v: roundValue(p.value) })) } : {}),
  };
}

const roundValue = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(10)));
const labelText = (labels: Record<string, string>): string => Object.keys(labels).length === 0 ? 'all' : Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');

function suggestStep(windowMs: number): string {
  for (const [text, ms] of [['1m', 60_000], ['5m', 300_000], ['15m', 900_000], ['1h', 3_600_000], ['6h', 21_600_000]] as const) {
    if (windowMs / ms <= 60) return text;
  }
  return '1d';
}
