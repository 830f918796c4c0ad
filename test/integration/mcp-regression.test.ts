import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueType, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { sendDeployWorkload, type DeployRequest, type DeployTruth } from '../helpers/deploy-workload.js';
import { callOk, callTool, openMcpDaemon, type McpDaemon } from '../helpers/mcp-client.js';
import { nearestRank } from '../helpers/mcp-workload.js';

/**
 * End to end through the real OTel SDK and the real MCP client: a deploy (service.version 1.0.0 → 1.1.0
 * at a known minute) makes "db query" 5× slower; compare_windows must rank it first among the
 * contributors and name it as the critical-path share that moved most, both by time window and by
 * service.version; an error burst in three known minutes must come back from find_anomalies in exactly
 * those minutes; a throughput ramp of exactly 1 span/s per hour must come back from capacity_forecast.
 */

const iso = (ms: number): string => new Date(ms).toISOString();
const meanMs = (xs: bigint[]): number => Number(xs.reduce((a, b) => a + b, 0n)) / xs.length / 1e6;
const sorted = (xs: bigint[]): bigint[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

interface Side {
  traces: number;
  root_mean_ms: number;
}
interface CompareAnswer {
  operations: { verdict: string; operation: string; kind: string; baseline: { count: number; errors: number; p95_ms: number }; current: { count: number; errors: number; p95_ms: number }; cliffs_delta: number; q: number }[];
  critical_path: {
    root: string;
    baseline: Side;
    current: Side;
    contributors: { service: string; operation: string; baseline_ms: number; current_ms: number; delta_ms: number; exemplar: string }[];
    largest_share_shift: { operation: string; share: [number, number]; share_delta: number };
  };
  hints: string[];
}

describe('regression, anomalies and capacity over MCP', () => {
  let opened: McpDaemon | undefined;
  let truth: DeployTruth;
  const now = Date.now();
  const call = <T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> => callOk<T>(opened!.mcp.client, name, args);

  beforeAll(async () => {
    opened = await openMcpDaemon('http', 'spanlens-mcp-regression-');
    const url = opened.tracesUrl;
    truth = await sendDeployWorkload({ makeExporter: () => new OTLPTraceExporter({ url, timeoutMillis: 20_000 }), nowMs: now });
    await sendMemoryGauge(url.replace(/\/v1\/traces$/, '/v1/metrics'), truth.rampStartMs);
    for (let i = 0; i < 200; i++) {
      const ops = await call<{ operations: { count: number }[] }>('list_operations', { window: '2d', limit: 50 });
      if (ops.operations.reduce((n, o) => n + o.count, 0) === truth.spanCount) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    await opened?.close();
  });

  /** Requests whose root ends in [fromMs, toMs). */
  const inWindow = (fromMs: number, toMs: number): DeployRequest[] =>
    truth.requests.filter((r) => r.startMs + Number(r.rootNs) / 1e6 >= fromMs && r.startMs + Number(r.rootNs) / 1e6 < toMs);

  function expectDeployFound(answer: CompareAnswer, before: DeployRequest[], after: DeployRequest[]): void {
    const cp = answer.critical_path;
    expect([cp.baseline.traces, cp.current.traces]).toEqual([before.length, after.length]);
    expect(cp.root).toBe('GET /items');
    expect(cp.baseline.root_mean_ms).toBeCloseTo(meanMs(before.map((r) => r.rootNs)), 2);
    expect(cp.current.root_mean_ms).toBeCloseTo(meanMs(after.map((r) => r.rootNs)), 2);
    const top = cp.contributors[0]!;
    expect(top).toMatchObject({ service: 'shop', operation: 'db query' });
    // The database call is sequential, so all of it is critical: its per-request critical time is its mean duration.
    expect(top.baseline_ms).toBeCloseTo(meanMs(before.map((r) => r.dbNs)), 2);
    expect(top.current_ms).toBeCloseTo(meanMs(after.map((r) => r.dbNs)), 2);
    expect(after.map((r) => r.traceId)).toContain(top.exemplar);
    expect(cp.largest_share_shift.operation).toBe('db query');
    expect(cp.largest_share_shift.share_delta).toBeGreaterThan(0.2);
    const db = answer.operations.find((o) => o.operation === 'db query')!;
    expect(answer.operations[0]).toBe(db);
    expect(db).toMatchObject({ verdict: 'regression', kind: 'client', cliffs_delta: 1 });
    expect(db.baseline.count).toBe(before.length);
    expect(db.current.count).toBe(after.length);
    expect(db.q).toBeLessThan(1e-6);
    expect(answer.operations.find((o) => o.operation === 'auth check')!.verdict).toBe('no_change');
    expect(answer.hints.some((h) => h.includes(`get_trace(trace_id="${top.exemplar}")`))).toBe(true);
  }

  it('compare_windows by time window: the deploy window against the one before', async () => {
    const start = truth.deployAtMs;
    const end = truth.deployAtMs + 29 * 60_000;
    const answer = await call<CompareAnswer>('compare_windows', { service: 'shop', start: iso(start), end: iso(end) });
    const before = inWindow(start - 29 * 60_000, start);
    const after = inWindow(start, end);
    expectDeployFound(answer, before, after);
    // Window percentiles come from the HDR histograms: within 0.1 % of the exact nearest rank.
    const db = answer.operations.find((o) => o.operation === 'db query')!;
    const truthP95 = Number(nearestRank(sorted(after.map((r) => r.dbNs)), 95)) / 1e6;
    expect(Math.abs(db.current.p95_ms - truthP95)).toBeLessThanOrEqual(truthP95 * 0.001 + 0.002);
    expect(db.current.errors).toBe(after.filter((r) => r.failed).length);
  });

  it('compare_windows by service.version: 1.0.0 against 1.1.0 over both sides of the deploy', async () => {
    const start = truth.deployAtMs - 29 * 60_000;
    const end = truth.deployAtMs + 29 * 60_000;
    const answer = await call<CompareAnswer>('compare_windows', { service: 'shop', start: iso(start), end: iso(end), attr: 'service.version', values: ['1.0.0', '1.1.0'] });
    const all = truth.requests.filter((r) => r.startMs >= start && r.startMs < end);
    expectDeployFound(answer, all.filter((r) => r.version === '1.0.0'), all.filter((r) => r.version === '1.1.0'));
    // Exact durations on this path: p95 is the nearest rank itself.
    const db = answer.operations.find((o) => o.operation === 'db query')!;
    const exact = Number(nearestRank(sorted(all.filter((r) => r.version === '1.1.0').map((r) => r.dbNs)), 95)) / 1e3;
    expect(db.current.p95_ms).toBe(Math.round(exact) / 1000);
  });

  it('performance_report: the regression, the bottleneck and the error burst, each with the call that shows it', async () => {
    const start = truth.deployAtMs;
    const end = truth.deployAtMs + 30 * 60_000;
    const report = await call<{ services: string[]; findings: { severity: string; area: string; text: string; next: string }[]; sections: Record<string, string> }>('performance_report', {
      service: 'shop', start: iso(start), end: iso(end), max_bytes: 16_384,
    });
    expect(report.services).toEqual(['shop']);
    const byArea = (area: string): { text: string; next: string }[] => report.findings.filter((f) => f.area === area);
    // db query went from ~10 ms to ~50 ms at the deploy: a regression against the 30 minutes before.
    expect(byArea('regression').map((f) => f.text).join('\n')).toContain('"db query"');
    expect(byArea('regression')[0]!.next).toMatch(/^compare_windows\(service="shop", operation=/);
    expect(byArea('bottleneck')[0]!.text).toMatch(/"GET \/items".*shop "db query" \d+%/);
    const errors = byArea('errors');
    // The root fails because the database did: the root's group names the db span as its root cause, and
    // the db span's own group carries the exception type.
    expect(errors[0]!.text).toMatch(/root cause in shop "db query"/);
    expect(errors.map((f) => f.text).join('\n')).toMatch(/shop "db query": ConnectionResetError ×45/);
    expect(errors[0]!.next).toMatch(/^get_trace\(trace_id="[0-9a-f]{32}"\)/);
    expect(report.sections['slo']).toMatch(/no SLOs/);
    // Warnings before information.
    const ranks = report.findings.map((f) => ({ critical: 0, warning: 1, info: 2 })[f.severity as 'info']);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('compare_windows explains bad arguments', async () => {
    const r = await callTool(opened!.mcp.client, 'compare_windows', { service: 'shop', attr: 'service.version', values: ['1.0.0'] });
    expect(r.isError).toBe(true);
    const unknown = await callTool(opened!.mcp.client, 'compare_windows', { service: 'shopp' });
    expect(JSON.stringify(unknown.content)).toContain('shop');
  });

  it('find_anomalies: the error burst in exactly its minutes', async () => {
    const answer = await call<{ anomalies: { service: string; operation: string; metric: string; minutes: string[]; observed: number; median: number; z: number; baseline: string }[] }>('find_anomalies', {
      service: 'shop', start: iso(truth.deployAtMs + 5 * 60_000), end: iso(truth.deployAtMs + 20 * 60_000),
    });
    const errors = answer.anomalies.filter((a) => a.metric === 'error_rate');
    expect(errors.map((a) => a.operation).sort()).toEqual(['GET /items', 'db query']);
    for (const a of errors) {
      expect(a.minutes).toEqual(truth.burstMinutesMs.map(iso));
      expect(a).toMatchObject({ service: 'shop', observed: 0.5, median: 0, baseline: 'trailing 60m' });
      expect(a.z).toBeGreaterThan(3.5);
    }
    // The slowdown since the deploy (inside the trailing baseline's last 5 minutes only) shows as p95, not as errors or traffic.
    expect(answer.anomalies.filter((a) => a.metric === 'throughput')).toEqual([]);
    expect(answer.anomalies.some((a) => a.metric === 'p95_ms' && a.operation === 'db query')).toBe(true);
    expect(answer.anomalies.some((a) => a.operation === 'auth check')).toBe(false);
  });

  it('find_anomalies: against the same time yesterday, busy-as-usual minutes are normal and only the spike is not', async () => {
    const floorMinute = truth.seasonSpikeMs + 10 * 60_000;
    const args = { service: 'season', start: iso(floorMinute - 15 * 60_000), end: iso(floorMinute - 5 * 60_000) };
    const answer = await call<{ anomalies: { metric: string; minutes: string[]; observed: number; median: number; mad: number; z: number; baseline: string }[] }>('find_anomalies', args);
    expect(answer.anomalies).toHaveLength(1);
    // Poisson floor: (120 − 60)/√60.
    expect(answer.anomalies[0]).toMatchObject({ metric: 'throughput', minutes: [iso(truth.seasonSpikeMs)], observed: 120, median: 60, mad: 0, baseline: 'same time on 1 earlier day(s)' });
    expect(answer.anomalies[0]!.z).toBeCloseTo(60 / Math.sqrt(60), 2);
  });

  it('capacity_forecast: the ramp trend exactly, no trend for steady traffic, and the time to a threshold', async () => {
    const answer = await call<{ trends: { series: string; unit: string; points: number; now: number; slope_per_h: number; slope_ci: [number, number] | null; trend: string; eta_h?: { estimate: number; soonest: number; latest: number } | string }[] }>('capacity_forecast', {
      // Ending at the last whole minute sent, so the answer does not depend on when the call runs.
      window: '1h', end: iso(truth.rampStartMs + 60 * 60_000), thresholds: { 'throughput ramp': 5 },
    });
    const ramp = answer.trends.find((t) => t.series === 'throughput ramp')!;
    // 60 minute steps, minute k at (10 + k)/60 spans/s around its midpoint; at the window's end (k = 59.5) 69.5/60.
    expect(ramp).toMatchObject({ unit: 'spans/s', points: 60, trend: 'up', slope_per_h: 1, now: Number((69.5 / 60).toPrecision(4)) });
    expect(ramp.slope_ci).toEqual([1, 1]);
    const eta = ramp.eta_h as { estimate: number; soonest: number; latest: number };
    expect(eta.estimate).toBeCloseTo(5 - 69.5 / 60, 3);
    expect(eta.soonest).toBeCloseTo(eta.estimate, 6);
    const shop = answer.trends.find((t) => t.series === 'throughput shop')!;
    expect(shop.trend).toBe('no trend');
  });

  it('capacity_forecast on a resource metric: slope, CI and hours until the limit', async () => {
    const answer = await call<{ trends: { series: string; unit: string; now: number; slope_per_h: number; slope_ci: [number, number]; trend: string; eta_h: { estimate: number; soonest: number; latest: number } }[] }>('capacity_forecast', {
      window: '1h', end: iso(truth.rampStartMs + 60 * 60_000), service: 'ramp', metrics: ['process.memory.usage'], thresholds: { 'process.memory.usage': 2e8 },
    });
    expect(answer.trends.map((t) => t.series).sort()).toEqual(['process.memory.usage', 'throughput ramp']);
    const memory = answer.trends.find((t) => t.series === 'process.memory.usage')!;
    // 1 MB more every minute: 60 MB per hour, exactly linear, so the interval is the slope itself.
    // A metric step's value is placed at the step's end (query_metrics' convention), so the last
    // minute's point (100 MB + 59 MB) sits at the window's end.
    expect(memory).toMatchObject({ unit: 'By', trend: 'up', slope_per_h: 6e7, slope_ci: [6e7, 6e7], now: 1.59e8 });
    expect(memory.eta_h.estimate).toBeCloseTo((2e8 - 1.59e8) / 6e7, 4);
    const unknown = await callTool(opened!.mcp.client, 'capacity_forecast', { metrics: ['no.such.metric'] });
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toContain('list_metrics');
  });
});

/** A gauge through the real OTLP metric exporter with explicit times: 100 MB + 1 MB per minute, one point a minute. */
async function sendMemoryGauge(url: string, startMs: number): Promise<void> {
  const hr = (ms: number): HrTime => [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
  const exporter = new OTLPMetricExporter({ url, timeoutMillis: 20_000 });
  const result = await new Promise<ExportResult>((resolve) => exporter.export({
    resource: resourceFromAttributes({ 'service.name': 'ramp' }),
    scopeMetrics: [{
      scope: { name: 'deploy-e2e' },
      metrics: [{
        descriptor: { name: 'process.memory.usage', description: 'resident memory', unit: 'By', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: Array.from({ length: 60 }, (_, k) => ({ startTime: hr(startMs), endTime: hr(startMs + k * 60_000 + 30_000), attributes: {}, value: 1e8 + k * 1e6 })),
      }],
    }],
  }, resolve));
  await exporter.shutdown();
  if (result.code !== ExportResultCode.SUCCESS) throw new Error(`metric export failed: ${String(result.error)}`);
}
