import { afterAll, describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { getOk, makeTempDir, removeDir, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { postProto } from '../helpers/otlp-raw.js';
import { makeSpans, type SpanSpec } from '../helpers/workload.js';
// A seeded PRNG (the load generator's), so a failure reproduces.
import { prng } from '../helpers/prng.js';

/**
 * /api/latency against ground truth: percentiles of 5000 known durations must match the exact
 * nearest-rank values within the histogram's documented precision (0.1 % relative, plus 1 µs for the
 * rounding of nanoseconds to microseconds), the count exactly, and the answers must survive a restart.
 */

const SERVICE = 'latency-truth';
const PERCENTILES = [50, 90, 95, 99, 99.9];
const MS = 1_000_000;


/** Log-normal durations (median ~20 ms, long tail) clamped to [0.5 ms, 30 s], in whole nanoseconds. */
function durationsNs(count: number, seed: number): bigint[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); // Box-Muller
    const ms = Math.min(30_000, Math.max(0.5, Math.exp(Math.log(20) + 1.6 * normal)));
    return BigInt(Math.round(ms * MS)) + BigInt(Math.floor(rand() * 1000)); // sub-µs noise
  });
}

/**
 * Nearest-rank percentile: the smallest value with at least p % of the values ≤ it. The rank is computed
 * in integers: in floating point 0.999 * 5000 is 4995.000000000001, whose ceiling is one rank too far.
 */
function nearestRank(sortedNs: bigint[], p: number): number {
  const perMillion = BigInt(Math.round(p * 10_000)); // p in millionths of the whole
  const rank = Math.max(1, Number((perMillion * BigInt(sortedNs.length) + 999_999n) / 1_000_000n));
  return Number(sortedNs[rank - 1]!) / MS;
}

interface LatencyBody {
  count: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  percentilesMs: Record<string, number>;
  relativeError: number;
}

function expectClose(actualMs: number, exactMs: number, what: string): void {
  const tolerance = exactMs * 0.001 + 0.001;
  expect(Math.abs(actualMs - exactMs), `${what}: got ${actualMs} ms, exact ${exactMs} ms`).toBeLessThanOrEqual(tolerance);
}

const dataDir = makeTempDir();
let daemon: TestDaemon | undefined;

afterAll(async () => {
  await daemon?.stop();
  removeDir(dataDir);
});

describe('latency percentiles', () => {
  it('match the exact nearest-rank percentiles of the sent durations, and persist across a restart', async () => {
    daemon = await startTestDaemon({ dataDir });
    const nowNs = BigInt(Date.now()) * BigInt(MS);
    // Spread over 100 minutes ending 5 minutes ago, so a 2 h query uses hour and minute histograms.
    const ops = { 'GET /fast': durationsNs(3000, 42), 'POST /slow': durationsNs(2000, 7).map((d) => d * 3n) };
    const specs: SpanSpec[] = Object.entries(ops).flatMap(([name, durations]) =>
      durations.map((durationNs, i) => ({
        name,
        durationNs,
        startNs: nowNs - 105n * 60_000n * BigInt(MS) + BigInt(i) * 2_000n * BigInt(MS) + BigInt(i % 997),
      })),
    );
    const spans = makeSpans(SERVICE, specs);
    expect(spans).toHaveLength(5000);
    for (let i = 0; i < spans.length; i += 500) {
      const body = ProtobufTraceSerializer.serializeRequest(spans.slice(i, i + 500))!;
      const reply = await postProto(daemon.tracesUrl, body);
      expect(reply.status).toBe(200);
      expect(reply.body.length).toBe(0); // no partial success
    }
    await daemon.service.store.flush();

    const range = `start=${Date.now() - 2 * 3_600_000}&end=${Date.now()}`;
    const query = (operation?: string): Promise<LatencyBody> =>
      getOk<LatencyBody>(
        `${daemon!.apiUrl}/api/latency?service=${SERVICE}${operation ? `&operation=${encodeURIComponent(operation)}` : ''}` +
          `&${range}&percentiles=${PERCENTILES.join(',')}`,
      );

    const cases: [string | undefined, bigint[]][] = [
      [undefined, [...ops['GET /fast'], ...ops['POST /slow']]],
      ['GET /fast', ops['GET /fast']],
      ['POST /slow', ops['POST /slow']],
    ];
    const answers: LatencyBody[] = [];
    for (const [operation, durations] of cases) {
      const sorted = [...durations].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const body = await query(operation);
      answers.push(body);
      const what = operation ?? 'all operations';
      expect(body.count, what).toBe(durations.length);
      expect(body.relativeError).toBe(0.001);
      for (const p of PERCENTILES) expectClose(body.percentilesMs[`p${p}`]!, nearestRank(sorted, p), `${what} p${p}`);
      expectClose(body.minMs, Number(sorted[0]!) / MS, `${what} min`);
      expectClose(body.maxMs, Number(sorted[sorted.length - 1]!) / MS, `${what} max`);
      const exactMean = Number(sorted.reduce((a, b) => a + b, 0n)) / sorted.length / MS;
      expectClose(body.meanMs, exactMean, `${what} mean`);
    }

    // A new daemon on the same data dir answers identically: the histograms were persisted.
    await daemon.stop();
    daemon = await startTestDaemon({ dataDir });
    for (const [i, [operation]] of cases.entries()) expect(await query(operation)).toEqual(answers[i]);
  });
});
