import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { meterProvider, metricExporter, queryApi } from '../../helpers/metrics-sdk.js';

/**
 * A restarted sender: a second MeterProvider with the same resource reports the same cumulative series
 * from zero with a new start time. The increase must be the sum of both lives (no doubling), and no
 * step may be negative.
 */
let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon();
});
afterAll(async () => {
  await daemon?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('counts a restarted cumulative counter once, with no negative or doubled rate', async () => {
  const service = 'restarting-app';
  const startMs = Date.now() - 1;
  const lives = [
    [10, 5, 20],
    [3, 4],
  ];
  for (const adds of lives) {
    const provider = meterProvider(service, metricExporter(daemon, 'grpc', 'cumulative'), ['latency']);
    const meter = provider.getMeter('reset-test');
    const requests = meter.createCounter('http_requests_total');
    const latency = meter.createHistogram('latency');
    for (const n of adds) {
      requests.add(n, { route: '/a' });
      for (let i = 0; i < n; i++) latency.record(i + 1);
      await provider.forceFlush();
      await sleep(30);
    }
    await provider.shutdown();
    await sleep(30);
  }
  await daemon.service.store.flush();
  const endMs = Date.now() + 1;
  const window = { start: String(startMs), end: String(endMs) };
  const total = 10 + 5 + 20 + 3 + 4;

  const inc = await queryApi(daemon.apiUrl, { select: 'http_requests_total{route="/a"}', agg: 'increase', ...window });
  expect(inc.groups[0]?.value).toBe(total);
  expect(inc.groups[0]?.seriesCount).toBe(1);
  const rate = await queryApi(daemon.apiUrl, { select: 'http_requests_total', agg: 'rate', ...window });
  expect(rate.groups[0]?.value).toBeCloseTo(total / ((endMs - startMs) / 1000), 9);

  const steps = await queryApi(daemon.apiUrl, { select: 'http_requests_total', agg: 'increase', step: '20ms', maxPoints: '10000', ...window });
  const values = (steps.groups[0]?.points ?? []).map((p) => p.value ?? 0);
  expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
  expect(values.reduce((a, b) => a + b, 0)).toBe(total);

  // The histogram restarts too: its count is the sum of both lives.
  const count = await queryApi(daemon.apiUrl, { select: 'latency', agg: 'count', ...window });
  expect(count.groups[0]?.value).toBe(total);
});
