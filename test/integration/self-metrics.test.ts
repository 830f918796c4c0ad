import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, makeTempDir, removeDir, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { encodeRequest, postProto, simpleSpans } from '../helpers/otlp-raw.js';
import { startTestTarget } from '../helpers/prometheus-target.js';
import { parseExposition } from '../../src/receivers/prometheus/parse.js';
import type { MetricFamily } from '../../src/receivers/prometheus/exposition.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const PROMTOOL = which('promtool');
const PROMETHEUS = which('prometheus');
const SKIP_PROMTOOL = 'promtool not installed (.ci/run installs Debian\'s prometheus package when it can)';
const SKIP_PROMETHEUS = 'prometheus not installed (.ci/run installs Debian\'s prometheus package when it can)';

async function daemon(config: NonNullable<Parameters<typeof startTestDaemon>[0]>['config'] = {}): Promise<TestDaemon> {
  const d = await startTestDaemon({ config });
  cleanups.push(() => d.stop());
  return d;
}

async function scrapeSelf(d: TestDaemon): Promise<{ text: string; families: Map<string, MetricFamily>; contentType: string }> {
  const res = await fetch(`${d.apiUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const families = new Map(parseExposition(text, 'prometheus-text').families.map((f) => [f.name, f]));
  return { text, families, contentType: res.headers.get('content-type') ?? '' };
}

function valueOf(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(name);
  const s = f?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels.some((l) => l.name === k && l.value === v)));
  return s?.value;
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/metrics self-telemetry', () => {
  it('exposes receiver outcomes, queue, store, series and per-target scrape results; a down target is not fatal', async () => {
    const target = await startTestTarget();
    cleanups.push(() => target.close());
    const d = await daemon({
      scrape: {
        targets: [
          { url: target.url, interval: '200ms', timeout: '150ms', job: 'seed-app' },
          { url: 'http://127.0.0.1:9/metrics', interval: '200ms', timeout: '150ms', job: 'gone' },
        ],
      },
    });
    const reply = await postProto(`${d.httpUrl}/v1/traces`, encodeRequest('checkout', simpleSpans(25)));
    expect(reply.status).toBe(200);
    await d.service.store.flush();

    const scraped = await until(async () => {
      const s = await scrapeSelf(d);
      // Scraped samples go through the same ingest queue every 200 ms, so a scrape of /metrics can
      // land while one of those writes is in flight; wait for a moment when none is.
      const idle = valueOf(s.families, 'queue_size', { queue: 'ingest' }) === 0;
      return idle && valueOf(s.families, 'spanlens_scrapes_total', { job: 'gone', result: 'failure' }) && valueOf(s.families, 'spanlens_scrape_up', { job: 'seed-app' }) === 1 ? s : undefined;
    }, 'both targets scraped and the ingest queue idle');
    const { families, contentType } = scraped;
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(families, 'receiver_accepted_spans_total', { receiver: 'otlp', transport: 'http' })).toBe(25);
    expect(valueOf(families, 'receiver_accepted_spans_total', { transport: 'grpc' })).toBe(0);
    expect(valueOf(families, 'receiver_refused_spans_total', { transport: 'http' })).toBe(0);
    expect(valueOf(families, 'receiver_failed_spans_total', { transport: 'grpc' })).toBe(0);
    for (const name of ['receiver_accepted_metric_points_total', 'receiver_refused_metric_points_total', 'receiver_failed_metric_points_total']) {
      expect(families.get(name)?.type, name).toBe('counter');
      expect(valueOf(families, name, { receiver: 'otlp', transport: 'grpc' }), name).toBe(0);
      expect(valueOf(families, name, { receiver: 'prometheus', transport: 'http' }), name).toBeGreaterThanOrEqual(0);
    }
    expect(valueOf(families, 'queue_capacity', { queue: 'ingest' })).toBe(512);
    expect(valueOf(families, 'queue_size', { queue: 'ingest' })).toBe(0);
    expect(valueOf(families, 'queue_saturated')).toBe(0);
    expect(valueOf(families, 'spanlens_store_size_bytes')).toBeGreaterThan(4096);
    expect(valueOf(families, 'spanlens_series', { kind: 'latency' })).toBe(1);
    expect(valueOf(families, 'spanlens_retention_deleted_total', { signal: 'spans' })).toBe(0);
    expect(valueOf(families, 'spanlens_scrape_up', { job: 'gone', instance: '127.0.0.1:9' })).toBe(0);
    expect(valueOf(families, 'spanlens_scrape_samples_scraped', { job: 'seed-app' })).toBe(97);
    expect(valueOf(families, 'spanlens_scrape_duration_seconds', { job: 'seed-app' })).toBeGreaterThan(0);
    expect(valueOf(families, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);

    expect((await getJson(`${d.apiUrl}/healthz`)).status).toBe(200);
    expect(await getJson(`${d.apiUrl}/readyz`)).toMatchObject({ status: 200, body: { ready: true, problems: [] } });
    const head = await fetch(`${d.apiUrl}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it.skipIf(!PROMTOOL)(`passes promtool check metrics${PROMTOOL ? '' : ` (skipped: ${SKIP_PROMTOOL})`}`, async () => {
    const target = await startTestTarget();
    cleanups.push(() => target.close());
    const d = await daemon({ scrape: { targets: [{ url: target.url, interval: '1s', timeout: '500ms' }] } });
    await postProto(`${d.httpUrl}/v1/traces`, encodeRequest('checkout', simpleSpans(3)));
    const { text } = await until(async () => {
      const s = await scrapeSelf(d);
      return valueOf(s.families, 'spanlens_scrape_up') === 1 ? s : undefined;
    }, 'first scrape');
    const out = spawnSync(PROMTOOL as string, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${out.stdout}${out.stderr}`).toBe('');
    expect(out.status).toBe(0);
  });

  it.skipIf(!PROMETHEUS)(`is scraped by a real Prometheus server (up == 1)${PROMETHEUS ? '' : ` (skipped: ${SKIP_PROMETHEUS})`}`, async () => {
    const d = await daemon();
    const dir = makeTempDir('spanlens-prom-');
    cleanups.push(() => removeDir(dir));
    const apiTarget = new URL(d.apiUrl).host;
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: spanlens\n    static_configs:\n      - targets: ['${apiTarget}']\n`,
    );
    const port = await freePort();
    const prom = spawn(
      PROMETHEUS as string,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prom.stderr.on('data', (c: Buffer) => (log += c.toString()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (prom.exitCode !== null) return resolve();
          prom.once('exit', () => resolve());
          prom.kill('SIGTERM');
        }),
    );
    type PromQuery = { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const result = await until(
      async () => {
        if (prom.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('up{job="spanlens"}')}`);
          const body = (await res.json()) as PromQuery;
          return body.data.result[0];
        } catch {
          return undefined;
        }
      },
      'Prometheus to scrape spanlens',
      30_000,
    );
    expect(result.metric).toMatchObject({ job: 'spanlens', instance: apiTarget });
    expect(result.value[1]).toBe('1');
    const targets = (await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
  }, 45_000);
});

describe('/readyz', () => {
  it('fails while the data directory cannot be written, and recovers', async () => {
    const d = await daemon();
    expect((await getJson(`${d.apiUrl}/readyz`)).status).toBe(200);
    const kept = `${d.dataDir}-moved`;
    fs.renameSync(d.dataDir, kept); // the database stays open, but nothing written now would survive
    cleanups.push(() => removeDir(kept));
    const down = await until(async () => {
      const r = await getJson<{ ready: boolean; problems: string[] }>(`${d.apiUrl}/readyz`);
      return r.status === 503 ? r : undefined;
    }, '/readyz to fail');
    expect(down.body.ready).toBe(false);
    expect(down.body.problems.join()).toMatch(/data directory .* is not writable: ENOENT/);
    fs.renameSync(kept, d.dataDir);
    await until(async () => ((await getJson(`${d.apiUrl}/readyz`)).status === 200 ? true : undefined), '/readyz to recover');
  });

  it('fails while the ingest queue is saturated', async () => {
    const d = await daemon({ ingest: { maxInflightRequests: 1 } });
    const body = encodeRequest('bulk', simpleSpans(60_000));
    const exporting = postProto(`${d.httpUrl}/v1/traces`, body);
    let finished = false;
    void exporting.finally(() => (finished = true));
    let saw: { status: number; body: { problems: string[] } } | undefined;
    let sawMetric: number | undefined;
    while (!finished && !saw) {
      const r = await getJson<{ problems: string[] }>(`${d.apiUrl}/readyz`);
      if (r.status === 503) {
        saw = r;
        sawMetric = valueOf((await scrapeSelf(d)).families, 'queue_saturated');
      }
    }
    expect((await exporting).status).toBe(200);
    expect(saw?.body.problems).toContain('ingest queue is full');
    expect(sawMetric).toBe(1);
    expect((await getJson(`${d.apiUrl}/readyz`)).status).toBe(200);
  });
});

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

