import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openReaderDb, openWriterDb } from '../../../src/store/sqlite/open.js';
import { SqliteMetricWriter } from '../../../src/store/sqlite/metric-writer.js';
import { SqliteMetricReader } from '../../../src/store/sqlite/metric-reader.js';
import { decodeMetricsJson } from '../../../src/codec/metrics-decode.js';
import type { DecodedMetrics } from '../../../src/model/metric.js';

/** The series store against a real SQLite file: what is written is read back exactly, bounded and deleted. */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spanlens-metric-store-'));
  dirs.push(dir);
  const db = openWriterDb(dir);
  return { db, writer: new SqliteMetricWriter(db, { maxSeries: 1000, maxBatchPoints: 1000 }), reader: new SqliteMetricReader(openReaderDb(dir)) };
}

const H = 3_600_000_000_000n;
const T0 = 1_800_000_000_000_000_000n;
const decode = (metrics: unknown[], service = 'svc'): DecodedMetrics =>
  decodeMetricsJson(
    new TextEncoder().encode(
      JSON.stringify({
        resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeMetrics: [{ metrics }] }],
      }),
    ),
  );

describe('SQLite metric series store', () => {
  it('round-trips every point type, exemplars included', async () => {
    const { writer, reader } = open();
    const t = T0.toString();
    const s = (T0 - 1000n).toString();
    const decoded = decode([
      {
        name: 'eh',
        unit: 's',
        exponentialHistogram: {
          aggregationTemporality: 1,
          dataPoints: [
            {
              startTimeUnixNano: s, timeUnixNano: t, count: 6, sum: -1.5, scale: 3, zeroCount: 1, zeroThreshold: 0.001, min: -4, max: 9,
              positive: { offset: -2, bucketCounts: [1, 0, 2] }, negative: { offset: 5, bucketCounts: [2] },
              exemplars: [{ timeUnixNano: t, asInt: 3, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', filteredAttributes: [{ key: 'user', value: { stringValue: 'u1' } }] }],
            },
          ],
        },
      },
      { name: 'sm', summary: { dataPoints: [{ startTimeUnixNano: s, timeUnixNano: t, count: 3, sum: 6, quantileValues: [{ quantile: 0.5, value: 2 }] }] } },
      { name: 'g', gauge: { dataPoints: [{ timeUnixNano: t, asInt: '42', attributes: [{ key: 'k', value: { intValue: 7 } }] }] } },
    ]);
    expect(writer.writeBatch([decoded])).toEqual([3]);
    const eh = await reader.fetchSeries({ selection: { metric: 'eh', matchers: [] }, startNs: T0 - H, endNs: T0, maxSeries: 10 });
    expect(eh.series[0]).toMatchObject({ type: 'exponential_histogram', unit: 's', temporality: 1, labels: { 'service.name': 'svc' } });
    expect(eh.series[0]?.points).toEqual([
      {
        timeNs: T0, startNs: T0 - 1000n, flags: 0, count: 6, sum: -1.5, min: -4, max: 9, scale: 3, zeroCount: 1, zeroThreshold: 0.001,
        positive: { offset: -2, counts: [1, 0, 2] }, negative: { offset: 5, counts: [2] },
      },
    ]);
    const ex = await reader.fetchExemplars([eh.series[0]!.id], T0 - H, T0, 10);
    expect(ex).toEqual([{ seriesId: eh.series[0]!.id, timeNs: T0, value: 3, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: { user: 'u1' } }]);
    const sm = await reader.fetchSeries({ selection: { metric: 'sm', matchers: [] }, startNs: T0 - H, endNs: T0, maxSeries: 10 });
    expect(sm.series[0]?.points[0]).toMatchObject({ count: 3, sum: 6, quantiles: [[0.5, 2]] });
    const g = await reader.fetchSeries({ selection: { metric: 'g', matchers: [{ label: 'k', op: '=', value: '7' }] }, startNs: T0 - H, endNs: T0, maxSeries: 10 });
    expect(g.series[0]?.points[0]?.value).toBe(42);
    const none = await reader.fetchSeries({ selection: { metric: 'nope', matchers: [] }, startNs: 0n, endNs: T0, maxSeries: 10 });
    expect(none).toEqual({ series: [], truncated: false, metricKnown: false });
  });

  it('keeps one series per identity across exports and hours, bounds discovery, and says when series are cut', async () => {
    const { writer, reader } = open();
    for (let i = 0; i < 5; i++) {
      const t = (T0 + BigInt(i) * H).toString();
      writer.writeBatch([
        decode([
          {
            name: 'requests_total',
            description: 'Requests',
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: ['a', 'b', 'c'].map((r) => ({ startTimeUnixNano: '1', timeUnixNano: t, asInt: i, attributes: [{ key: 'route', value: { stringValue: r } }] })),
            },
          },
        ]),
      ]);
    }
    expect(writer.seriesCount).toBe(3);
    const all = await reader.fetchSeries({ selection: { metric: 'requests_total', matchers: [] }, startNs: T0, endNs: T0 + 10n * H, maxSeries: 2 });
    expect(all.series).toHaveLength(2);
    expect(all.truncated).toBe(true);
    expect(all.series[0]?.points.map((p) => p.value)).toEqual([0, 1, 2, 3, 4]);
    const { metrics } = await reader.listMetrics({ limit: 10, maxLabelValues: 2 });
    expect(metrics).toEqual([
      {
        name: 'requests_total', type: 'sum', unit: '', description: 'Requests', monotonic: true, temporality: 2, seriesCount: 3,
        labels: [
          { key: 'route', values: ['a', 'b'], valuesTruncated: true },
          { key: 'service.name', values: ['svc'], valuesTruncated: false },
        ],
      },
    ]);
  });

  it('deletes whole hours before the cutoff, then the series and metrics left without data', async () => {
    const { writer, reader } = open();
    writer.writeBatch([decode([{ name: 'old', gauge: { dataPoints: [{ timeUnixNano: T0.toString(), asInt: 1 }] } }])]);
    writer.writeBatch([decode([{ name: 'new', gauge: { dataPoints: [{ timeUnixNano: (T0 + 5n * H).toString(), asInt: 1 }] } }])]);
    expect(writer.oldestBucketEndNs()).toBe((T0 / H + 1n) * H);
    let more = true;
    while (more) more = writer.deleteBefore(T0 + 2n * H, 1).more;
    expect((await reader.listMetrics({ limit: 10, maxLabelValues: 0 })).metrics.map((m) => m.name)).toEqual(['new']);
    expect(writer.seriesCount).toBe(1);
    // A metric deleted by retention can come back.
    writer.writeBatch([decode([{ name: 'old', gauge: { dataPoints: [{ timeUnixNano: (T0 + 6n * H).toString(), asInt: 2 }] } }])]);
    const back = await reader.fetchSeries({ selection: { metric: 'old', matchers: [] }, startNs: T0, endNs: T0 + 7n * H, maxSeries: 5 });
    expect(back.series[0]?.points.map((p) => p.value)).toEqual([2]);
  });
});
