import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertEngine } from '../../../src/alerting/engine.js';
import { BURN_WINDOW_MS, type BurnWindow, type WindowEvents } from '../../../src/analysis/burn-rate.js';
import type { MetricSource } from '../../../src/analysis/metric-source.js';
import { alertingSchema } from '../../../src/config/alert-schema.js';
import { SqliteAlertStore } from '../../../src/store/sqlite/alert-store.js';
import { openWriterDb } from '../../../src/store/sqlite/open.js';
import type { LatencyReader, SloBurnSource } from '../../../src/store/ports.js';
import { makeTempDir, removeDir } from '../../helpers/daemon.js';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js';

const MIN = 60_000;

/**
 * A synthetic SLO (the SLO store is another component): per-minute events, summed per window (t − w, t].
 * Stands in for the SloBurnSource port the SLO definitions implement.
 */
class SyntheticSlo implements SloBurnSource {
  readonly minutes = new Map<number, WindowEvents>();
  constructor(private readonly target: number) {}
  async burnEvents(slo: string, windows: readonly BurnWindow[], nowMs: number) {
    if (slo !== 'checkout') return null;
    const events: Partial<Record<BurnWindow, WindowEvents>> = {};
    for (const w of windows) {
      const acc = { total: 0, bad: 0 };
      for (const [m, e] of this.minutes) {
        if (m * MIN > nowMs - BURN_WINDOW_MS[w] && m * MIN <= nowMs) {
          acc.total += e.total;
          acc.bad += e.bad;
        }
      }
      events[w] = acc;
    }
    return [{ objective: 'availability', target: this.target, events }];
  }
}

const noLatency: LatencyReader = { latency: async () => null };
const noMetrics = {} as MetricSource;

describe('alert engine with a burn-rate rule, real SQLite and a real webhook receiver', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('spanlens-alert-engine-');
    openWriterDb(dir).close();
  });
  afterEach(() => removeDir(dir));

  it('fires on a sustained 15× burn, retries a failed delivery, resolves after recovery; state and history survive a restart', async () => {
    const hook = await startWebhookReceiver([500]);
    const config = alertingSchema.parse({
      interval: '1m',
      receivers: [{ name: 'am', url: hook.url, format: 'alertmanager', backoff: '20ms', timeout: '2s' }],
      rules: [
        { name: 'checkout-budget', type: 'burn_rate', slo: 'checkout', objective: 'availability', for: '2m', severity: 'page', labels: { team: 'shop' }, receivers: ['am'] },
        { name: 'wrong-objective', type: 'burn_rate', slo: 'checkout', objective: 'latency_le_300ms' },
      ],
    });
    const slo = new SyntheticSlo(0.999);
    let store = new SqliteAlertStore(dir);
    const logger = pino({ level: 'silent' });
    const options = { intervalMs: config.interval, historyRetentionMs: config.historyRetention, externalUrl: () => 'http://spanlens.test:4320', receivers: config.receivers, rules: config.rules };
    // Simulated time: evaluations and delivery records share one clock.
    let clock = 0;
    const at = async (ms: number): Promise<void> => {
      clock = ms;
      await engine.evaluate(ms);
    };
    let engine = new AlertEngine(options, store, { latency: noLatency, metrics: noMetrics, slo }, logger, () => clock);
    engine.load();
    const START = 8 * 60;
    for (let m = 0; m < START + 70; m++) {
      slo.minutes.set(m, { total: 1000, bad: m >= START ? 15 : 0 });
      await at(m * MIN);
    }
    await engine.deliveriesIdle();
    // Fired at START + 59 (see test/unit/analysis/alert-state.test.ts); the first POST got 500, the retry 200.
    expect(hook.received.map((r) => [r.body['status'], r.status])).toEqual([['firing', 500], ['firing', 200]]);
    const firing = hook.received[1]!.body as { version: string; status: string; alerts: Record<string, unknown>[]; groupLabels: unknown; commonLabels: unknown };
    expect(firing.version).toBe('4');
    expect(firing.groupLabels).toEqual({ alertname: 'checkout-budget' });
    expect(firing.commonLabels).toEqual({ alertname: 'checkout-budget', severity: 'page', slo: 'checkout', team: 'shop' });
    expect(firing.alerts[0]).toMatchObject({ status: 'firing', startsAt: new Date((START + 59) * MIN).toISOString(), endsAt: '0001-01-01T00:00:00Z' });
    expect(firing.alerts[0]!['fingerprint']).toMatch(/^[0-9a-f]{16}$/);

    // Restart: the firing state is loaded back, so the next evaluations neither re-notify nor forget it.
    await engine.shutdown();
    store.close();
    store = new SqliteAlertStore(dir);
    engine = new AlertEngine(options, store, { latency: noLatency, metrics: noMetrics, slo }, logger, () => clock);
    engine.load();
    expect((await engine.overview({ historyLimit: 0 })).alerts.map((a) => [a.name, a.state, a.source, a.note])).toEqual([
      ['checkout-budget', 'firing', 'config', undefined],
      ['wrong-objective', 'inactive', 'config', undefined],
    ]);
    for (let m = START + 70; m < START + 120; m++) {
      slo.minutes.set(m, { total: 1000, bad: m < START + 90 ? 15 : 0 });
      await at(m * MIN);
    }
    await engine.deliveriesIdle();
    expect(hook.received.map((r) => [r.body['status'], r.status])).toEqual([['firing', 500], ['firing', 200], ['resolved', 200]]);
    const resolved = hook.received[2]!.body as { alerts: Record<string, unknown>[] };
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', startsAt: new Date((START + 59) * MIN).toISOString(), endsAt: new Date((START + 90) * MIN).toISOString() });
    expect(resolved.alerts[0]!['fingerprint']).toBe(firing.alerts[0]!['fingerprint']);

    const { history, alerts } = await engine.overview({ historyLimit: 20 });
    expect(alerts[1]).toMatchObject({ name: 'wrong-objective', state: 'inactive', note: 'SLO "checkout" has no objective "latency_le_300ms"; objectives: availability' });
    expect(history.reverse().map((h) => (h.kind === 'state' ? `${h.from}>${h.to}` : `${h.to}#${h.attempt}:${h.ok}`))).toEqual([
      'inactive>pending', 'pending>firing', 'firing#1:false', 'firing#2:true', 'firing>resolved', 'resolved#1:true',
    ]);
    // History has its own retention (30 d by default): an evaluation 31 days later prunes all of it.
    await at((START + 120) * MIN + 31 * 86_400_000);
    expect((await engine.overview({ historyLimit: 20 })).history).toEqual([]);
    expect((await engine.overview({ historyLimit: 0, rule: 'checkout-budget' })).alerts[0]!.state).toBe('resolved');
    await engine.shutdown();
    store.close();
    await hook.close();
  });

  it('fingerprints label sets like Prometheus (prometheus/common model test vectors)', async () => {
    const { labelsFingerprint } = await import('../../../src/alerting/payloads.js');
    expect(labelsFingerprint({})).toBe('cbf29ce484222325');
    expect(BigInt(`0x${labelsFingerprint({ name: 'garland, briggs', fear: 'love is not enough' })}`)).toBe(5799056148416392346n);
  });

  it('MCP-managed rules: validated with every problem listed, config rules protected, receivers must exist', async () => {
    const store = new SqliteAlertStore(dir);
    const config = alertingSchema.parse({
      receivers: [{ name: 'ops', url: 'http://127.0.0.1:9/hook' }],
      rules: [{ name: 'from-config', type: 'error_rate', service: 'checkout', op: '>', threshold: 0.05 }],
    });
    const engine = new AlertEngine({ intervalMs: 1000, historyRetentionMs: 86_400_000, externalUrl: () => 'http://x', receivers: config.receivers, rules: config.rules }, store, { latency: noLatency, metrics: noMetrics }, pino({ level: 'silent' }));
    engine.load();
    const bad = await engine.upsertRule({ name: 'x', type: 'latency', service: 'checkout' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/percentile.*op.*threshold/s);
    expect(await engine.upsertRule({ name: 'from-config', type: 'error_rate', service: 'a', op: '>', threshold: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/config file/) });
    expect(await engine.deleteRule('from-config')).toMatchObject({ ok: false, error: expect.stringMatching(/config file/) });
    expect(await engine.upsertRule({ name: 'm', type: 'metric', select: ['cache_hits_total'], op: '<', threshold: 1, receivers: ['pager'] })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown receiver pager.*ops/) });
    expect(await engine.upsertRule({ name: 'm', type: 'metric', select: ['cache_hits_total{level="l1"'], op: '<', threshold: 1 })).toMatchObject({ ok: false });
    const ok = await engine.upsertRule({ name: 'cache-ratio', type: 'metric', select: ['cache_hits_total'], denominator: ['cache_hits_total', 'cache_misses_total'], op: '<', threshold: 0.8, window: '10m', receivers: ['ops'] });
    expect(ok).toMatchObject({ ok: true, created: true, rule: { source: 'mcp', expr: 'increase(cache_hits_total) / (cache_hits_total + cache_misses_total) over 10m < 0.8' } });
    expect(store.rules().map((r) => [r.name, r.source])).toEqual([['cache-ratio', 'mcp'], ['from-config', 'config']]);
    expect(await engine.deleteRule('cache-ratio')).toEqual({ ok: true });
    await engine.shutdown();
    store.close();
  });
});
