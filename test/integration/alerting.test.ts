import { afterAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeTempDir, removeDir, startTestDaemon, type ConfigOverrides } from '../helpers/daemon.js';
import { callOk, callTool, connectHttp, connectStdio } from '../helpers/mcp-client.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { meterProvider, metricExporter } from '../helpers/metrics-sdk.js';

/**
 * Alerting end to end: a real daemon evaluating rules every 200 ms over the HDR histograms, fed by the
 * real OTel SDK exporter, notifying a real HTTP receiver; rules and history managed and read over MCP.
 */

/** Sends `count` SERVER spans of `durationMs` each (ending a few seconds ago) through the OTel SDK. */
async function sendSpans(tracesUrl: string, service: string, count: number, durationMs: number, error = false): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }), { maxExportBatchSize: 1000, maxQueueSize: 5000, scheduledDelayMillis: 60_000 })],
  });
  const tracer = provider.getTracer('alerting-test');
  const endMs = Date.now() - 2_000;
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan('GET /predict', { kind: SpanKind.SERVER, startTime: endMs - durationMs });
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.end(endMs);
  }
  await provider.forceFlush();
  await provider.shutdown();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type AlertsAnswer = { alerts: { name: string; state: string; value: number | null; source: string }[]; history: { rule: string; kind: string; from?: string; to?: string; attempt?: number; ok?: boolean; detail?: string }[] };

const fast = { latency: { flushInterval: '100ms' } };

describe('alerting on a real daemon', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('P95 > 2 s fires once after a failed delivery is retried, and resolves once when fast spans bring P95 down', async () => {
    const hook = await startWebhookReceiver([500]);
    cleanup.push(() => hook.close());
    const config: ConfigOverrides = {
      ...fast,
      alerting: {
        interval: '200ms',
        receivers: [{ name: 'am', url: hook.url, format: 'alertmanager', backoff: '100ms', timeout: '2s' }],
        rules: [{ name: 'ml-p95', type: 'latency', service: 'apes-ml-pipeline', percentile: 95, op: '>', threshold: 2000, window: '15m', for: '600ms', severity: 'page', labels: { team: 'ml' }, receivers: ['am'] }],
      },
    } as ConfigOverrides;
    const daemon = await startTestDaemon({ config });
    cleanup.push(() => daemon.stop());
    const mcp = await connectHttp(daemon.apiUrl);
    cleanup.push(() => mcp.close());

    // 40 spans of 3 s: P95 = 3000 ms > 2000 ms.
    const sentAt = Date.now();
    await sendSpans(daemon.tracesUrl, 'apes-ml-pipeline', 40, 3_000);
    await hook.waitFor(2);
    const firedAfterMs = Date.now() - sentAt;
    expect(hook.received.map((r) => [r.body['status'], r.status])).toEqual([['firing', 500], ['firing', 200]]);
    const body = hook.received[1]!.body as Record<string, unknown> & { alerts: Record<string, unknown>[] };
    expect(Object.keys(body).sort()).toEqual(['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version']);
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'am', truncatedAlerts: 0, groupLabels: { alertname: 'ml-p95' }, externalURL: daemon.apiUrl });
    expect(body['commonLabels']).toEqual({ alertname: 'ml-p95', severity: 'page', service: 'apes-ml-pipeline', team: 'ml' });
    const alert = body.alerts[0]!;
    expect(Object.keys(alert).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
    expect(alert).toMatchObject({ status: 'firing', endsAt: '0001-01-01T00:00:00Z', labels: body['commonLabels'] });
    expect(Date.parse(alert['startsAt'] as string)).toBeGreaterThanOrEqual(sentAt);
    // HDR histograms: values within 0.1 % (3 significant digits).
    expect(Number((alert['annotations'] as Record<string, string>)['value'])).toBeCloseTo(3000, -1);
    expect(alert['generatorURL']).toMatch(new RegExp(`^${daemon.apiUrl}/mcp`));

    // Still firing: more evaluations must not notify again.
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.received).toHaveLength(2);
    const firing = await callOk<AlertsAnswer>(mcp.client, 'alerts', {});
    expect(firing.alerts[0]).toMatchObject({ name: 'ml-p95', state: 'firing', source: 'config' });
    expect(Math.abs(firing.alerts[0]!.value! - 3000)).toBeLessThanOrEqual(3);

    // 1000 spans of 10 ms: 40 slow of 1040 is under 5 %, so P95 = 10 ms and the alert resolves.
    await sendSpans(daemon.tracesUrl, 'apes-ml-pipeline', 1_000, 10);
    await hook.waitFor(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.received.map((r) => [r.body['status'], r.status])).toEqual([['firing', 500], ['firing', 200], ['resolved', 200]]);
    const resolved = (hook.received[2]!.body as { alerts: Record<string, unknown>[] }).alerts[0]!;
    expect(resolved['status']).toBe('resolved');
    expect(resolved['startsAt']).toBe(alert['startsAt']);
    expect(Date.parse(resolved['endsAt'] as string)).toBeGreaterThan(Date.parse(alert['startsAt'] as string));
    expect(resolved['fingerprint']).toBe(alert['fingerprint']);

    const after = await callOk<AlertsAnswer>(mcp.client, 'alerts', { rule: 'ml-p95', history: 20 });
    expect(after.alerts[0]!.state).toBe('resolved');
    expect(Math.abs(after.alerts[0]!.value! - 10)).toBeLessThanOrEqual(0.01);
    expect(after.history.reverse().map((h) => (h.kind === 'state' ? `${h.from}>${h.to}` : `${h.to}#${h.attempt}:${h.detail}`))).toEqual([
      'inactive>pending', 'pending>firing', 'firing#1:HTTP 500', 'firing#2:HTTP 200', 'firing>resolved', 'resolved#1:HTTP 200',
    ]);

    // Writes over HTTP are refused without mcp.allowWrites.
    const refused = await callTool(mcp.client, 'manage_alert_rule', { action: 'upsert', name: 'x', rule: { type: 'error_rate', service: 'apes-ml-pipeline', op: '>', threshold: 0.1 } });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/allowWrites/);
    console.log(`alerting e2e: firing delivered ${firedAfterMs} ms after the spans were sent (interval 200 ms, for 600 ms, one retry after 100 ms)`);
  }, 15_000);

  it('rules managed over MCP (HTTP with allowWrites) and their state and history survive a restart; config rules are protected', async () => {
    const dataDir = makeTempDir('spanlens-alert-restart-');
    cleanup.push(async () => removeDir(dataDir));
    const config = {
      ...fast,
      mcp: { allowWrites: true },
      alerting: { interval: '200ms', rules: [{ name: 'cfg-rule', type: 'error_rate', service: 'nobody', op: '>', threshold: 0.5 }] },
    } as ConfigOverrides;
    let daemon = await startTestDaemon({ config, dataDir });
    let mcp = await connectHttp(daemon.apiUrl);
    const created = await callOk<{ rule: Record<string, unknown> }>(mcp.client, 'manage_alert_rule', {
      action: 'upsert', name: 'pay-errors', rule: { type: 'error_rate', service: 'payments', op: '>', threshold: 0.5, window: '10m', severity: 'ticket' },
    });
    expect(created.rule).toMatchObject({ action: 'created', name: 'pay-errors', source: 'mcp', state: 'inactive', expr: 'errors/spans(payments) over 10m > 0.5' });
    const cfgDelete = await callTool(mcp.client, 'manage_alert_rule', { action: 'delete', name: 'cfg-rule' });
    expect(cfgDelete.isError).toBe(true);
    expect(JSON.stringify(cfgDelete.content)).toMatch(/config file/);
    const invalid = await callTool(mcp.client, 'manage_alert_rule', { action: 'upsert', name: 'bad', rule: { type: 'latency', service: 'payments' } });
    expect(invalid.isError).toBe(true);
    expect(JSON.stringify(invalid.content)).toMatch(/percentile/);

    await sendSpans(daemon.tracesUrl, 'payments', 30, 5, true);
    await until('pay-errors firing', async () => {
      const a = await callOk<AlertsAnswer>(mcp.client, 'alerts', { rule: 'pay-errors' });
      return a.alerts[0]?.state === 'firing' ? a : undefined;
    });
    await mcp.close();
    await daemon.stop();

    daemon = await startTestDaemon({ config, dataDir });
    mcp = await connectHttp(daemon.apiUrl);
    cleanup.push(() => daemon.stop(), () => mcp.close());
    const reloaded = await callOk<AlertsAnswer>(mcp.client, 'alerts', { history: 10 });
    expect(reloaded.alerts.map((a) => [a.name, a.source, a.state])).toEqual([['pay-errors', 'mcp', 'firing'], ['cfg-rule', 'config', 'inactive']]);
    expect(reloaded.history.filter((h) => h.rule === 'pay-errors').map((h) => h.to)).toEqual(['firing']);
    expect(await callOk(mcp.client, 'manage_alert_rule', { action: 'delete', name: 'pay-errors' })).toMatchObject({ rule: { action: 'deleted' } });
  }, 15_000);

  it('a metric ratio rule (cache hits / (hits + misses) < 0.8) fires and resolves on OTLP metrics from the SDK; json webhook body', async () => {
    const hook = await startWebhookReceiver();
    cleanup.push(() => hook.close());
    const config = {
      alerting: {
        interval: '200ms',
        receivers: [{ name: 'ops', url: hook.url }],
        rules: [{
          name: 'cache-hit-ratio', type: 'metric', select: ['cache_hits_total{service.name="shop"}'],
          denominator: ['cache_hits_total{service.name="shop"}', 'cache_misses_total{service.name="shop"}'],
          op: '<', threshold: 0.8, window: '15m', receivers: ['ops'],
        }],
      },
    } as ConfigOverrides;
    const daemon = await startTestDaemon({ config });
    cleanup.push(() => daemon.stop());
    const provider = meterProvider('shop', metricExporter(daemon, 'http-proto', 'delta'));
    const meter = provider.getMeter('cache');
    const hits = meter.createCounter('cache_hits_total');
    const misses = meter.createCounter('cache_misses_total');
    // 60 hits, 40 misses: ratio 0.6.
    hits.add(60);
    misses.add(40);
    await provider.forceFlush();
    await hook.waitFor(1);
    expect(hook.received[0]!.body).toMatchObject({ status: 'firing', rule: 'cache-hit-ratio', type: 'metric', value: 0.6, threshold: 0.8, receiver: 'ops', labels: { alertname: 'cache-hit-ratio', severity: 'warning' } });
    // 1000 more hits: (60 + 1000) / 1100 = 0.9636 over the window.
    hits.add(1000);
    misses.add(0);
    await provider.forceFlush();
    await hook.waitFor(2);
    expect(hook.received[1]!.body).toMatchObject({ status: 'resolved', rule: 'cache-hit-ratio' });
    expect(hook.received[1]!.body['value']).toBeCloseTo(1060 / 1100, 6);
    await provider.shutdown();
  }, 15_000);

  // Spawning `spanlens mcp` through tsx takes seconds on a loaded machine: a longer timeout.
  it('stdio may always write', async () => {
    const dataDir = makeTempDir('spanlens-alert-stdio-');
    const mcp = await connectStdio(dataDir);
    cleanup.push(async () => {
      await mcp.close();
      removeDir(dataDir);
    });
    const created = await callOk<{ rule: Record<string, unknown> }>(mcp.client, 'manage_alert_rule', {
      action: 'upsert', name: 'cache-ratio', rule: { type: 'metric', select: ['cache_hits_total'], denominator: ['cache_hits_total', 'cache_misses_total'], op: '<', threshold: 0.8 },
    });
    expect(created.rule).toMatchObject({ action: 'created', source: 'mcp' });
  }, 30_000);
});
