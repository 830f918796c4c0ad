import { expect, it } from 'vitest';
import { startTestDaemon } from '../../helpers/daemon.js';
import { postJson } from '../../helpers/otlp-raw.js';
import { queryApi } from '../../helpers/metrics-sdk.js';

/** The writer worker's retention loop also ages out metric points (by point time, whole hours). */
it('deletes metric points older than storage.retention.maxAge and keeps recent ones', async () => {
  const daemon = await startTestDaemon({ config: { storage: { retention: { maxAge: '2h', checkInterval: '200ms' } } } });
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    const point = (ageHours: bigint, v: number) => ({ timeUnixNano: (now - ageHours * 3_600_000_000_000n).toString(), asDouble: v });
    const body = {
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'temperature', gauge: { dataPoints: [point(5n, 1), point(0n, 2)] } }] }] }],
    };
    expect((await postJson(`${daemon.httpUrl}/v1/metrics`, JSON.stringify(body))).status).toBe(200);
    const count = async (): Promise<number | null> =>
      (await queryApi(daemon.apiUrl, { select: 'temperature', agg: 'count', window: '6h' })).groups[0]?.value ?? null;
    const deadline = Date.now() + 10_000;
    let n = await count();
    while (n !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      n = await count();
    }
    expect(n).toBe(1);
    const stats = await daemon.service.store.stats();
    expect(stats?.retentionDeletedMetricPoints).toBe(1);
    expect(stats?.metricSeries).toBe(1);
  } finally {
    await daemon.stop();
  }
});
