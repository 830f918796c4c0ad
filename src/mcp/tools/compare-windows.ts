import { z } from 'zod';
import { comparisonRange, TimeRangeError } from '../../analysis/time-range.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { compareOperations, contributorsOf, type Contributor, type OperationComparison, type SideOperation, type SideStats } from '../../analysis/window-compare.js';
import type { TraceSpan } from '../../model/trace.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema, round } from '../result.js';
import { kindName } from '../operations.js';
import { resolveRange, timeInput, toResolved, type ResolvedRange } from '../time-input.js';
import { sampleTraces } from '../trace-sample.js';
import { aggregateSide, attributeSides, entryOperation, windowOperations } from '../window-sides.js';

const loose = z.looseObject({});
// Field names explain themselves (tools/list budget): operations carry verdict, per-side count/p50/p95/p99,
// deltas, cliffs_delta, p, q; critical_path carries the root, both sides (traces, root mean), the
// contributors (per-request critical ms per side, delta, exemplar) and the largest share shift.
const output = z.object({ operations: z.array(loose), critical_path: loose, meta: metaSchema, hints: z.array(z.string()) });

const side = (s: SideStats): Record<string, unknown> => ({ count: s.count, errors: s.errors, p50_ms: s.p50Ms, p95_ms: s.p95Ms, p99_ms: s.p99Ms });
const opRow = (r: OperationComparison): Record<string, unknown> => ({
  verdict: r.verdict, operation: r.operation, kind: kindName(r.kind), baseline: side(r.baseline), current: side(r.current),
  p95_delta_ms: r.p95DeltaMs, p95_rel: r.p95Rel === null ? null : round(r.p95Rel, 3),
  cliffs_delta: r.test ? round(r.test.cliffsDelta, 3) : null, p: r.test ? Number(r.test.pTwoSided.toPrecision(3)) : null,
  q: r.qValue === null ? null : Number(r.qValue.toPrecision(3)), ...(r.lowConfidence.length > 0 ? { low_confidence: r.lowConfidence } : {}),
});
const contributorRow = (c: Contributor): Record<string, unknown> => ({
  service: c.service, operation: c.operation, baseline_ms: c.baselineMs, current_ms: c.currentMs, delta_ms: c.deltaMs,
  fraction_of_root_delta: c.fractionOfRootDelta, share: [round(c.baselineShare, 3), round(c.currentShare, 3)], exemplar: c.exemplarTraceId,
});

export function registerCompareWindows(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'compare_windows',
    {
      description: 'Regression: window vs baseline (previous, -1d, -7d or start/end) or attr values [old,new], with culprits.',
      inputSchema: z.object({
        service: z.string(),
        operation: z.string().optional(),
        baseline: z.string().optional(),
        attr: z.string().optional(),
        values: z.array(z.string()).optional(),
        ...timeInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const byAttr = args.attr !== undefined || args.values !== undefined;
      if (byAttr && (args.attr === undefined || args.values?.length !== 2)) throw new ToolError('attr and values go together, e.g. attr="service.version", values=["1.4.0","1.5.0"]');
      const range = resolveRange(args, deps.now(), 3_600_000);
      const cap = deps.limits.maxAnalysisTraces;
      const rangeOps = await windowOperations(deps, args.service, args.operation, range);
      const root = args.operation ?? entryOperation(rangeOps);
      if (root === undefined) throw new ToolError(`no spans of ${args.service} in ${range.window.start}/${range.window.end}: widen the window`);

      let opsA: SideOperation[];
      let opsB = rangeOps;
      let tracesA: TraceSpan[][];
      let tracesB: TraceSpan[][];
      let rangeA: ResolvedRange | undefined;
      let rangeB: ResolvedRange | undefined;
      let sides: [Record<string, unknown>, Record<string, unknown>];
      let precision: string;
      if (byAttr) {
        const values = args.values as [string, string];
        const sample = await sampleTraces(deps, { service: args.service, operation: root, maxTraces: cap }, range, 'full');
        const split = attributeSides(sample.traces, args.service, args.operation, args.attr as string, values);
        [opsA, opsB] = split.ops;
        [tracesA, tracesB] = split.traces;
        sides = [{ [args.attr as string]: values[0], traces: tracesA.length }, { [args.attr as string]: values[1], traces: tracesB.length }];
        precision = `${sample.precision}; operations from the sampled spans`;
      } else {
        rangeB = range;
        rangeA = args.baseline !== undefined ? baselineRange(args.baseline, range, deps.now()) : toResolved({ startMs: 2 * range.startMs - range.endMs, endMs: range.startMs });
        opsA = await windowOperations(deps, args.service, args.operation, rangeA);
        const half = Math.max(1, Math.floor(cap / 2));
        const [a, b] = await Promise.all([rangeA, rangeB].map((r) => sampleTraces(deps, { service: args.service, operation: root, maxTraces: half }, r, 'timing')));
        tracesA = a!.traces;
        tracesB = b!.traces;
        sides = [{ window: `${rangeA.window.start}/${rangeA.window.end}`, traces: tracesA.length }, { window: `${range.window.start}/${range.window.end}`, traces: tracesB.length }];
        precision = `HDR histograms; critical paths from ${a!.precision} vs ${b!.precision}`;
      }
      const rows = compareOperations(opsA, opsB).map(opRow);
      const aggA = aggregateSide(tracesA, args.service, root, rangeA);
      const aggB = aggregateSide(tracesB, args.service, root, rangeB);
      const cp = contributorsOf(aggA, aggB, { service: args.service, operation: root });
      const contributors = cp.contributors.filter((c) => c.deltaMs > 0).slice(0, 5).map(contributorRow);
      const shift = cp.largestShareShift === null ? null : { ...contributorRow(cp.largestShareShift), share_delta: round(cp.largestShareShift.shareDelta, 3) };
      const top = cp.contributors[0];
      const hints = [
        `find_bottlenecks(service="${args.service}", operation="${root}", start="${range.window.start}", end="${range.window.end}")`,
        ...(top?.exemplarTraceId ? [`get_trace(trace_id="${top.exemplarTraceId}")`] : []),
      ];
      return boundedResult({
        rows, offset: 0, limit: Number.MAX_SAFE_INTEGER, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision },
        build: (page) => ({
          operations: page,
          critical_path: {
            root, baseline: { ...sides[0], root_mean_ms: aggA.rootLatency.meanMs }, current: { ...sides[1], root_mean_ms: aggB.rootLatency.meanMs },
            contributors, largest_share_shift: shift,
          },
        }),
        summary: (page) => {
          const regressed = page.filter((r) => r['verdict'] === 'regression').map((r) => `"${String(r['operation'])}"`);
          const why = top && top.deltaMs > 0 ? ` Root "${root}" mean ${(cp.rootDeltaMs ?? 0) >= 0 ? '+' : ''}${cp.rootDeltaMs ?? 0} ms; largest contributor ${top.service} "${top.operation}" +${top.deltaMs} ms per request.` : '';
          const moved = cp.largestShareShift ? ` Critical-path share moved most for ${cp.largestShareShift.service} "${cp.largestShareShift.operation}" (${round(cp.largestShareShift.baselineShare, 3)} → ${round(cp.largestShareShift.currentShare, 3)}).` : '';
          return `${regressed.length > 0 ? `Regressed: ${regressed.join(', ')}.` : 'No operation regressed significantly.'}${why}${moved}`;
        },
        hints,
      });
    },
  );
}

/** "previous", a shift like "-1d" (the same window a day earlier, as latency_stats' compare_to), or "start/end". */
function baselineRange(text: string, current: ResolvedRange, nowMs: number): ResolvedRange {
  if (!text.includes('/')) {
    try {
      return toResolved(comparisonRange(current, text));
    } catch (err) {
      if (err instanceof TimeRangeError) throw new ToolError(`baseline "${text}" must be "previous", a shift like "-1d" or "-7d", or "start/end" (RFC3339)`);
      throw err;
    }
  }
  const [start, end, extra] = text.split('/');
  if (start === undefined || end === undefined || extra !== undefined) throw new ToolError('baseline is "previous", a shift like "-1d", or "start/end", e.g. "2026-01-01T10:00:00Z/2026-01-01T11:00:00Z"');
  return resolveRange({ start, end }, nowMs, 3_600_000);
}
