import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { detectAnomalies, fillMinutes, type KeySeries, type MinutePoint } from '../../analysis/anomaly.js';
import { percentileOf } from '../../analysis/rank-tests.js';
import type { LatencyTimeline } from '../../store/ports.js';
import type { McpDeps } from '../deps.js';
import { ToolError, unknownServiceError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, iso, metaSchema, round } from '../result.js';
import { kindName } from '../operations.js';
import { resolveRange, timeInput } from '../time-input.js';

const output = z.object({
  anomalies: z.array(z.looseObject({})),
  meta: metaSchema, hints: z.array(z.string()),
});

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const SEASON_DAYS = 7;
const SLOT_MS = 15 * MINUTE_MS;

const keyOf = (t: { service: string; operation: string; kind: number }): string => `${t.service}\u0000${t.operation}\u0000${t.kind}`;
const points = (t: LatencyTimeline): MinutePoint[] =>
  t.steps.map((s) => ({ startMs: s.startMs, count: s.count, errors: s.errors, p95Ms: s.buckets ? (percentileOf(s.buckets, 95) ?? 0) / 1000 : null }));

export function registerFindAnomalies(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'find_anomalies',
    {
      description: 'Anomalous minutes (robust z ≥ 3.5) of p95, error rate, throughput per operation.',
      inputSchema: z.object({ service: z.string().optional(), operation: z.string().optional(), ...timeInput, ...budgetInput }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 30 * MINUTE_MS);
      const spanMs = range.endMs - range.startMs;
      if (spanMs > DAY_MS) throw new ToolError('find_anomalies looks at minutes: use a window of at most 1d (e.g. window="1h")');
      const read = async (startMs: number, endMs: number): Promise<LatencyTimeline[]> => {
        const t = await deps.timeline.latencyTimeline({
          ...(args.service !== undefined ? { service: args.service } : {}), ...(args.operation !== undefined ? { operation: args.operation } : {}),
          startNs: BigInt(Math.floor(startMs)) * 1_000_000n, endNs: BigInt(Math.ceil(endMs)) * 1_000_000n, stepMs: MINUTE_MS, histograms: true,
        });
        if (t === null) {
          if (args.service !== undefined && (await deps.latency.operationStats({ service: args.service, startNs: 0n, endNs: 1n })) === null) throw await unknownServiceError(deps.spans, args.service);
          throw new ToolError(`no operation "${args.operation ?? ''}" stored for ${args.service ?? 'any service'}: call list_operations for the names`);
        }
        return t;
      };
      const current = await read(range.startMs, range.endMs);
      const trailingMs = Math.max(60 * MINUTE_MS, 2 * spanMs);
      const trailing = new Map((await read(range.startMs - trailingMs, range.startMs)).map((t) => [keyOf(t), t]));
      // Same time of day on earlier days (±15 min), per key only on the days where it had spans.
      const seasonal = new Map<string, { points: MinutePoint[]; days: number }>();
      for (let d = 1; d <= SEASON_DAYS; d++) {
        const from = range.startMs - d * DAY_MS - SLOT_MS;
        const to = range.endMs - d * DAY_MS + SLOT_MS;
        for (const t of await read(from, to)) {
          const entry = seasonal.get(keyOf(t)) ?? { points: [], days: 0 };
          entry.points.push(...fillMinutes(points(t), from, to));
          entry.days++;
          seasonal.set(keyOf(t), entry);
        }
      }
      const labels = new Map<string, string>();
      const keys: KeySeries[] = current.map((t) => {
        const season = seasonal.get(keyOf(t));
        const useSeason = season !== undefined && season.points.filter((p) => p.count > 0).length >= 20;
        const trail = trailing.get(keyOf(t));
        labels.set(keyOf(t), useSeason ? `same time on ${season.days} earlier day(s)` : `trailing ${Math.round(trailingMs / MINUTE_MS)}m`);
        return {
          service: t.service, operation: t.operation, kind: t.kind,
          current: fillMinutes(points(t), range.startMs, range.endMs),
          baseline: useSeason ? season.points : fillMinutes(trail ? points(trail) : [], range.startMs - trailingMs, range.startMs),
        };
      });
      const rows = detectAnomalies(keys).map((a) => ({
        service: a.service, operation: a.operation, kind: kindName(a.kind), metric: a.metric,
        minutes: a.minutes.slice(0, 10).map(iso), ...(a.minutes.length > 10 ? { minutes_total: a.minutes.length } : {}),
        observed: round(a.observed), median: round(a.median), mad: round(a.mad), z: round(a.z, 2), baseline: labels.get(keyOf(a)) ?? '',
      }));
      const top = rows[0];
      const hints = top === undefined ? [] : [
        top.metric === 'error_rate' ? `find_errors(service="${top.service}", start="${top.minutes[0]}", end="${iso(Date.parse(top.minutes[top.minutes.length - 1]!) + MINUTE_MS)}")` : `find_traces(service="${top.service}", operation="${top.operation}", start="${top.minutes[0]}", sort="slowest")`,
        `compare_windows(service="${top.service}", start="${top.minutes[0]}", end="${iso(Date.parse(top.minutes[top.minutes.length - 1]!) + MINUTE_MS)}")`,
      ];
      return boundedResult({
        rows, offset: 0, limit: Number.MAX_SAFE_INTEGER, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: 'per-minute HDR histograms and counts' },
        build: (page) => ({ anomalies: page }),
        summary: (page) => page.length === 0
          ? `No anomalous minute among ${keys.length} operations (robust z ≥ 3.5 on p95, error rate, throughput).`
          : `${rows.length} anomalies; strongest: ${page.slice(0, 3).map((r) => `${r.service} "${r.operation}" ${r.metric} ${r.observed} vs median ${r.median} (z ${r.z}) at ${r.minutes[0]}`).join('; ')}.`,
        hints,
      });
    },
  );
}
