import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { RecordingExporter } from '../helpers/workload.js';
import { prng } from '../helpers/prng.js';

/**
 * SLO-v1 end to end: the real OTel SDK sends apes-ml-pipeline requests of known outcome and duration
 * over a controlled set of minutes (the last 100 minutes, plus one burst 10 days ago that only hour
 * rows cover); slo_status over MCP must report exactly the attainment, budget and burn rates this test
 * computes from what it sent. Every span starts and ends within one minute, so the daemon's start-minute
 * buckets and SLO-v1's end-time windows agree.
 */

const MIN = 60_000;
const SLO = {
  name: 'apes-ml-pipeline',
  service: 'apes-ml-pipeline',
  period: '30d',
  objectives: { availability: 0.999, latency: [{ thresholdMs: 2000, target: 0.95 }, { thresholdMs: 5000, target: 0.99 }], errorRate: 0.001 },
};
const WINDOWS: Record<string, number> = { '5m': 5, '30m': 30, '1h': 60, '6h': 360, '3d': 4320 };

interface Sent {
  endMs: number;
  durationMs: number;
  error: boolean;
  operation: string;
}

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];


/**
 * Per minute k = 1..100 minutes ago: 20 requests (SERVER "POST /predict" and CONSUMER "score batch").
 * Durations are fast (100–1 900 ms), medium (2 100–4 900 ms) or slow (5 100–7 900 ms), never within
 * 100 ms of a threshold (HDR buckets there are ~1 ms wide). Errors: 1 in 50 in general, and a burst in
 * the last 8 minutes on "score batch". Each request also has a CLIENT child (errors included), which
 * is not an entry span and must not count. 10 days ago: 300 requests, 30 of them failing.
 */
async function send(tracesUrl: string, nowMs: number): Promise<Sent[]> {
  const recorder = new RecordingExporter(new OTLPTraceExporter({ url: tracesUrl }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'apes-ml-pipeline' }),
    spanProcessors: [new BatchSpanProcessor(recorder, { maxExportBatchSize: 1000, maxQueueSize: 100_000, scheduledDelayMillis: 60_000 })],
  });
  const tracer = provider.getTracer('slo-e2e');
  const random = prng(7);
  const sent: Sent[] = [];
  const request = (minuteStartMs: number, burst: boolean, forceError?: boolean): void => {
    const operation = random() < 0.5 ? 'POST /predict' : 'score batch';
    const r = random();
    const durationMs = r < 0.9 ? 100 + Math.floor(random() * 1800) : r < 0.97 ? 2100 + Math.floor(random() * 2800) : 5100 + Math.floor(random() * 2800);
    const drawn = burst && operation === 'score batch' ? random() < 0.5 : random() < 0.02;
    const error = forceError ?? drawn;
    const startMs = minuteStartMs + 1000 + Math.floor(random() * 45_000);
    const kind = operation === 'POST /predict' ? SpanKind.SERVER : SpanKind.CONSUMER;
    const span = tracer.startSpan(operation, { kind, root: true, startTime: hr(startMs) });
    const child = tracer.startSpan('GET model', { kind: SpanKind.CLIENT, startTime: hr(startMs + 1) }, trace.setSpan(ROOT_CONTEXT, span));
    if (random() < 0.3) child.setStatus({ code: SpanStatusCode.ERROR });
    child.end(hr(startMs + Math.floor(durationMs / 2)));
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'inference failed' });
    else if (random() < 0.5) span.setStatus({ code: SpanStatusCode.OK });
    span.end(hr(startMs + durationMs));
    sent.push({ endMs: startMs + durationMs, durationMs, error, operation });
  };
  const nowMinute = Math.floor(nowMs / MIN);
  for (let k = 100; k >= 1; k--) for (let i = 0; i < 20; i++) request((nowMinute - k) * MIN, k <= 8);
  const old = (nowMinute - 10 * 1440) * MIN;
  for (let i = 0; i < 300; i++) request(old + (i % 30) * MIN, false, i % 10 === 0);
  await provider.forceFlush();
  await provider.shutdown();
  expect(recorder.failures).toEqual([]);
  return sent;
}

/** What slo_status must say at `t`, from the spans sent (SLO-v1, windows on minute indexes T − k < m ≤ T). */
function truth(sent: Sent[], t: number) {
  const T = Math.floor(t / MIN);
  const inWindow = (s: Sent, minutes: number): boolean => Math.floor(s.endMs / MIN) > T - minutes && Math.floor(s.endMs / MIN) <= T;
  const objectives: [string, number, (s: Sent) => boolean][] = [
    ['availability', 0.999, (s) => s.error],
    ['latency_le_2000ms', 0.95, (s) => s.durationMs > 2000],
    ['latency_le_5000ms', 0.99, (s) => s.durationMs > 5000],
    ['error_rate', 0.999, (s) => s.error],
  ];
  return objectives.map(([name, target, isBad]) => {
    const period = sent.filter((s) => inWindow(s, 30 * 1440));
    const n = period.length;
    const bad = period.filter(isBad).length;
    const burn = Object.fromEntries(Object.entries(WINDOWS).map(([w, k]) => {
      const inW = sent.filter((s) => inWindow(s, k));
      return [w, inW.length === 0 ? 0 : inW.filter(isBad).length / inW.length / (1 - target)];
    }));
    const byOp = new Map<string, number>();
    for (const s of period) if (isBad(s)) byOp.set(s.operation, (byOp.get(s.operation) ?? 0) + 1);
    return { name, target, n, bad, sli: (n - bad) / n, consumed: bad / ((1 - target) * n), burn, byOp };
  });
}

interface Detail {
  slos: {
    evaluated_at: string;
    requests: number;
    verdict: string;
    latency_ms: { p50: number; p95: number; p99: number };
    objectives: { name: string; events: number; bad: number; sli: number; allowed_bad: number; budget_consumed: number; budget_remaining: number; burn_rates: Record<string, number>; state: string; percentile_value_ms?: number }[];
    alerts: { objective: string; windows: string; firing: boolean; long_burn_rate: number; short_burn_rate: number; long_events: number; short_events: number }[];
    top_consumers: { operation: string; bad: Record<string, number> }[];
  }[];
}

describe('slo_status end to end (OTel SDK → daemon → MCP)', () => {
  let daemon: TestDaemon;
  let mcp: McpConnection;
  let sent: Sent[];

  beforeAll(async () => {
    daemon = await startTestDaemon({
      config: { slos: [SLO], alerting: { interval: '200ms', rules: [{ name: 'pipeline-budget', type: 'burn_rate', slo: 'apes-ml-pipeline', objective: 'availability', burn_severity: 'page' }] } },
    });
    mcp = await connectHttp(daemon.apiUrl);
    sent = await send(daemon.tracesUrl, Date.now());
    const expected = sent.length;
    // Histograms flush every 2 s: wait until every request is counted.
    for (let i = 0; i < 100; i++) {
      const all = await callOk<{ slos: { requests: number }[] }>(mcp.client, 'slo_status');
      if (all.slos[0]?.requests === expected) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    await mcp?.close();
    await daemon?.stop();
  });

  it('attainment, error budget and burn rates match what was sent, exactly', async () => {
    const detail = await callOk<Detail>(mcp.client, 'slo_status', { slo: 'apes-ml-pipeline' });
    const s = detail.slos[0]!;
    const expected = truth(sent, Date.parse(s.evaluated_at));
    expect(s.requests).toBe(sent.length);
    for (const e of expected) {
      const o = s.objectives.find((x) => x.name === e.name)!;
      expect(o.events, e.name).toBe(e.n);
      expect(o.bad, e.name).toBe(e.bad);
      expect(o.sli, e.name).toBeCloseTo(e.sli, 6);
      expect(o.allowed_bad, e.name).toBeCloseTo((1 - e.target) * e.n, 3);
      expect(o.budget_consumed, e.name).toBeCloseTo(e.consumed, 6);
      expect(o.budget_remaining, e.name).toBeCloseTo(1 - e.consumed, 6);
      for (const w of Object.keys(WINDOWS)) expect(o.burn_rates[w], `${e.name} ${w}`).toBeCloseTo(e.burn[w] as number, 5);
      for (const a of s.alerts.filter((x) => x.objective === e.name)) {
        const [long, short] = a.windows.split('/') as [string, string];
        expect(a.long_burn_rate).toBeCloseTo(e.burn[long] as number, 5);
        expect(a.short_burn_rate).toBeCloseTo(e.burn[short] as number, 5);
      }
    }
    // The burst: 8 minutes of ~50 % failures on "score batch" burn the availability budget far faster
    // than 14.4 in both the 1 h and the 5 m window.
    const fast = s.alerts.find((a) => a.objective === 'availability' && a.windows === '1h/5m')!;
    expect(fast.firing).toBe(true);
    expect(fast.short_events).toBe(sent.filter((x) => Math.floor(x.endMs / MIN) > Math.floor(Date.parse(s.evaluated_at) / MIN) - 5).length);
    expect(s.verdict).toBe('violated');
    // The operation with the failing burst spent most of the availability budget.
    const availability = expected[0]!;
    const top = [...availability.byOp.entries()].sort((a, b) => b[1] - a[1])[0]!;
    expect(s.top_consumers[0]!.operation).toBe(top[0]);
    expect(s.top_consumers[0]!.bad['availability']).toBe(top[1]);
  });

  it('performance_report puts the violated SLO first, with its firing page and the call that details it', async () => {
    const report = await callOk<{ findings: { severity: string; area: string; text: string; next: string }[] }>(mcp.client, 'performance_report', { service: 'apes-ml-pipeline', window: '1h' });
    const first = report.findings[0]!;
    expect(first).toMatchObject({ severity: 'critical', area: 'slo', next: 'slo_status(slo="apes-ml-pipeline")' });
    expect(first.text).toMatch(/^SLO apes-ml-pipeline violated: \S+ .* vs target .*budget remaining -?[\d.]+%, burn 1h [\d.]+×, firing page 1h\+5m/);
  });

  it('a burn_rate alert rule reads the same SLO events and fires on the fast page', async () => {
    let rule: { name: string; state: string; value: number | null; note?: string } | undefined;
    for (let i = 0; i < 50; i++) {
      const answer = await callOk<{ alerts: { name: string; state: string; value: number | null; note?: string }[] }>(mcp.client, 'alerts');
      rule = answer.alerts.find((a) => a.name === 'pipeline-budget');
      if (rule?.state === 'firing') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rule?.note).toBeUndefined();
    expect(rule).toMatchObject({ state: 'firing' });
    expect(rule!.value).toBeGreaterThan(1);
  });

  it('a small byte budget keeps the alert rows that fire and says how many were left out', async () => {
    const full = await callOk<Detail>(mcp.client, 'slo_status', { slo: 'apes-ml-pipeline' });
    const small = await callOk<Detail & { slos: { alerts_omitted?: string }[] }>(mcp.client, 'slo_status', { slo: 'apes-ml-pipeline', max_bytes: 1024 });
    const firing = full.slos[0]!.alerts.filter((a) => a.firing);
    expect(small.slos[0]!.alerts).toEqual(firing);
    expect(small.slos[0]!.alerts_omitted).toMatch(new RegExp(`^${12 - firing.length} quiet alert rows left out`));
  });

  it('percentiles over the period come from the HDR histograms (within 0.1 %)', async () => {
    const detail = await callOk<Detail>(mcp.client, 'slo_status', { slo: 'apes-ml-pipeline' });
    const durations = sent.map((x) => x.durationMs).sort((a, b) => a - b);
    const rank = (p: number): number => durations[Math.max(Math.ceil(p * durations.length), 1) - 1] as number;
    const latency = detail.slos[0]!.latency_ms;
    expect(Math.abs(latency.p95 - rank(0.95)) / rank(0.95)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(latency.p99 - rank(0.99)) / rank(0.99)).toBeLessThanOrEqual(0.001);
    const o = detail.slos[0]!.objectives.find((x) => x.name === 'latency_le_2000ms')!;
    expect(o.percentile_value_ms).toBe(latency.p95);
  });

  it('the overview lists the SLO with its verdict, and spanlens://slos and spanlens://services describe it', async () => {
    const all = await callOk<{ slos: { name: string; verdict: string; objectives: unknown[] }[]; hints: string[] }>(mcp.client, 'slo_status');
    expect(all.slos.map((x) => [x.name, x.verdict])).toEqual([['apes-ml-pipeline', 'violated']]);
    expect(all.slos[0]!.objectives).toHaveLength(4);
    expect(all.hints[0]).toBe('slo_status(slo="apes-ml-pipeline")');
    const slos = (await readJson(mcp.client, 'spanlens://slos')) as { slos: { name: string; source: string; definition: { period: string } }[] };
    expect(slos.slos).toMatchObject([{ name: 'apes-ml-pipeline', source: 'config', definition: { period: '30d', service: 'apes-ml-pipeline' } }]);
    const services = (await readJson(mcp.client, 'spanlens://services')) as { services: { name: string; span_count: number; operations_24h: number }[] };
    // Every request is two spans (entry + CLIENT child); the 10-day-old ones count too (hour rows).
    expect(services.services).toEqual([{ name: 'apes-ml-pipeline', span_count: 2 * sent.length, operations_24h: 3 }]);
  });

  it('prompts: the four playbooks name the tools to call in order', async () => {
    const { prompts } = await mcp.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(['cache_efficiency', 'inference_latency', 'investigate_latency', 'slo_report']);
    const slo = await mcp.client.getPrompt({ name: 'slo_report', arguments: {} });
    const text = (slo.messages[0]!.content as { text: string }).text;
    expect(text).toMatch(/^Are we meeting our SLO targets this month\?/);
    expect(text.indexOf('slo_status(')).toBeLessThan(text.indexOf('find_errors('));
    const inference = await mcp.client.getPrompt({ name: 'inference_latency', arguments: { service: 'apes-ml-pipeline' } });
    expect((inference.messages[0]!.content as { text: string }).text).toContain('analyze(topic="inference", service="apes-ml-pipeline"');
  });
});

async function readJson(client: Client, uri: string): Promise<unknown> {
  const { contents } = await client.readResource({ uri });
  return JSON.parse((contents[0] as { text: string }).text) as unknown;
}
