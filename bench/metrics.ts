/**
 * Metrics ingest benchmark: data points/s accepted and persisted over OTLP/gRPC by a real daemon
 * (child process), with the series shape of a typical ML service: 13 metric families (HTTP request
 * counts and duration histograms, ML predictions, inference-duration histograms and errors, DB pool
 * usage and query durations, Redis operations and durations, cache hits/misses by level L1/L2/L3, MCP
 * operations by status, process memory) per instance, `--instances` instances, each export = one
 * instance's cumulative snapshot at a new timestamp (what a PeriodicExportingMetricReader sends).
 *
 *   npx tsx bench/metrics.ts [--seconds 15] [--concurrency 8] [--instances 50] [--exports-per-request 1]
 *
 * stdout: one JSON line. Acked points are checked against the rows in the database after shutdown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { spawnDaemon } from '../test/helpers/spawn-daemon.js';
import { otlpType, TypeNames } from '../src/codec/protos.js';
import { cpuSeconds, percentile, statusMb } from './lib/proc-stats.js';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '8' },
    instances: { type: 'string', default: '50' },
    'exports-per-request': { type: 'string', default: '1' },
  },
});
const seconds = Number(opts.seconds);
const concurrency = Number(opts.concurrency);
const instances = Number(opts.instances);
const exportsPerRequest = Number(opts['exports-per-request']);
const log = (line: string): void => void process.stderr.write(`metrics-bench: ${line}\n`);

type Attrs = Record<string, string>;
interface Family {
  name: string;
  kind: 'counter' | 'gauge' | 'histogram';
  unit: string;
  series: Attrs[];
  bounds?: number[];
}

const cross = (...dims: [string, string[]][]): Attrs[] =>
  dims.reduce<Attrs[]>((acc, [k, vs]) => acc.flatMap((a) => vs.map((v) => ({ ...a, [k]: v }))), [{}]);
const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const MODELS = ['ranker', 'embedder', 'classifier'];

const FAMILIES: Family[] = [
  { name: 'http_requests_total', kind: 'counter', unit: '{request}', series: cross(['method', ['GET', 'POST']], ['route', ['/predict', '/health', '/embed', '/search', '/admin']], ['status', ['200', '400', '500']]) },
  { name: 'http_request_duration_seconds', kind: 'histogram', unit: 's', bounds: LATENCY, series: cross(['method', ['GET', 'POST']], ['route', ['/predict', '/health', '/embed', '/search', '/admin']]) },
  { name: 'ml_predictions_total', kind: 'counter', unit: '{prediction}', series: cross(['model', MODELS], ['outcome', ['ok', 'fallback']]) },
  { name: 'ml_model_inference_duration_seconds', kind: 'histogram', unit: 's', bounds: LATENCY, series: cross(['model', MODELS]) },
  { name: 'ml_errors_total', kind: 'counter', unit: '{error}', series: cross(['model', MODELS], ['error_type', ['timeout', 'oom', 'invalid_input']]) },
  { name: 'db_pool_connections', kind: 'gauge', unit: '{connection}', series: cross(['pool', ['primary', 'replica']], ['state', ['in_use', 'idle']]) },
  { name: 'db_query_duration_seconds', kind: 'histogram', unit: 's', bounds: LATENCY, series: cross(['operation', ['select', 'insert', 'update', 'delete']]) },
  { name: 'redis_operations_total', kind: 'counter', unit: '{operation}', series: cross(['command', ['get', 'set', 'del', 'expire']], ['status', ['ok', 'error']]) },
  { name: 'redis_operation_duration_seconds', kind: 'histogram', unit: 's', bounds: LATENCY, series: cross(['command', ['get', 'set', 'del', 'expire']]) },
  { name: 'cache_hits_total', kind: 'counter', unit: '{hit}', series: cross(['level', ['L1', 'L2', 'L3']]) },
  { name: 'cache_misses_total', kind: 'counter', unit: '{miss}', series: cross(['level', ['L1', 'L2', 'L3']]) },
  { name: 'mcp_operations_total', kind: 'counter', unit: '{operation}', series: cross(['operation', ['list_tools', 'call_tool', 'read_resource', 'get_prompt']], ['status', ['success', 'error']]) },
  { name: 'process_resident_memory_bytes', kind: 'gauge', unit: 'By', series: [{}] },
];
const POINTS_PER_EXPORT = FAMILIES.reduce((a, f) => a + f.series.length, 0);

const kv = (attrs: Attrs) => Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } }));
const START_NS = BigInt(Date.now()) * 1_000_000n;

/** One instance's cumulative snapshot at export `round` (values grow with the round). */
function resourceMetrics(instance: number, round: number, timeNs: bigint): unknown {
  const t = timeNs.toString();
  const s = START_NS.toString();
  return {
    resource: { attributes: kv({ 'service.name': 'ml-service', 'service.instance.id': `pod-${instance}` }) },
    scopeMetrics: [
      {
        scope: { name: 'ml-service' },
        metrics: FAMILIES.map((f) => {
          const dataPoints = f.series.map((attrs, i) => {
            const n = (round + 1) * (i + 3);
            if (f.kind === 'gauge') return { attributes: kv(attrs), timeUnixNano: t, asDouble: (i * 7 + round) % 50 };
            if (f.kind === 'counter') return { attributes: kv(attrs), startTimeUnixNano: s, timeUnixNano: t, asInt: n };
            const bounds = f.bounds as number[];
            const bucketCounts = bounds.map((_, b) => Math.floor(n / (b + 2))).concat([0]);
            const count = bucketCounts.reduce((a, b) => a + b, 0);
            return { attributes: kv(attrs), startTimeUnixNano: s, timeUnixNano: t, count, sum: count * 0.05, bucketCounts, explicitBounds: bounds };
          });
          const data =
            f.kind === 'gauge'
              ? { gauge: { dataPoints } }
              : f.kind === 'counter'
                ? { sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints } }
                : { histogram: { aggregationTemporality: 2, dataPoints } };
          return { name: f.name, unit: f.unit, ...data };
        }),
      },
    ],
  };
}

const requestType = otlpType(TypeNames.exportMetricsRequest);
const identity = (b: Buffer): Buffer => b;
const Client = grpc.makeGenericClientConstructor({}, 'Bench');
const PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-metrics-bench-'));
  const daemon = await spawnDaemon({ dataDir });
  log(`daemon pid ${daemon.pid} (${daemon.entry}), ${instances} instances × ${POINTS_PER_EXPORT} series, concurrency ${concurrency}`);
  const client = new Client(`127.0.0.1:${daemon.grpcPort}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  let next = 0;
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  let encodeMs = 0;
  const send = (body: Uint8Array): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) => {
      client.makeUnaryRequest<Buffer, Buffer>(PATH, identity, identity, Buffer.from(body), new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, response) =>
        resolve(err ?? (response && response.length > 0 ? ({ message: `partial success ${response.toString('hex')}` } as grpc.ServiceError) : null)),
      );
    });
  const cpu0 = cpuSeconds(daemon.pid);
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const e0 = performance.now();
      const resource: unknown[] = [];
      for (let k = 0; k < exportsPerRequest; k++) {
        const n = next++;
        const instance = n % instances;
        const round = Math.floor(n / instances);
        // Distinct times per (instance, round): one export every 10 s of simulated time.
        resource.push(resourceMetrics(instance, round, START_NS + BigInt(round + 1) * 10_000_000_000n + BigInt(instance)));
      }
      const body = requestType.encode({ resourceMetrics: resource }).finish();
      encodeMs += performance.now() - e0;
      const s0 = performance.now();
      const err = await send(body);
      latencies.push(performance.now() - s0);
      if (err) {
        failed++;
        firstError ??= err.message;
      } else acked += POINTS_PER_EXPORT * exportsPerRequest;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(daemon.pid) - cpu0;
  const rss = statusMb(daemon.pid, 'VmHWM');
  client.close();
  // Query latency over everything just written (all instances, the whole simulated time range).
  const rounds = Math.ceil(next / instances) + 1;
  const range = `start=${START_NS / 1_000_000n}&end=${(START_NS + BigInt(rounds + 1) * 10_000_000_000n) / 1_000_000n}`;
  const queries: Record<string, string> = {
    rateByRoute: `select=http_requests_total&agg=rate&by=route&${range}`,
    p99ByRoute: `select=http_request_duration_seconds&agg=p99&by=route&maxSeries=1000&${range}`,
    hitRatioByLevel: `select=cache_hits_total&denominator=cache_hits_total&denominator=cache_misses_total&agg=increase&by=level&${range}`,
    listMetrics: '',
  };
  const queryMs: Record<string, number> = {};
  for (const [name, q] of Object.entries(queries)) {
    const url = name === 'listMetrics' ? `http://127.0.0.1:${daemon.apiPort}/api/metrics` : `http://127.0.0.1:${daemon.apiPort}/api/metrics/query?${q}&maxSeries=1000`;
    const q0 = performance.now();
    const res = await fetch(url);
    await res.text();
    queryMs[name] = Math.round(performance.now() - q0);
    if (res.status !== 200) log(`query ${name} answered ${res.status}`);
  }
  daemon.kill('SIGTERM');
  await daemon.exited;
  const db = new Database(path.join(dataDir, 'spans.db'), { readonly: true });
  const persisted = (db.prepare('SELECT count(*) AS n FROM metric_points').get() as { n: number }).n;
  const series = (db.prepare('SELECT count(*) AS n FROM metric_series').get() as { n: number }).n;
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const result = {
    bench: 'metrics-ingest-grpc',
    pointsPerSec: Math.round(acked / elapsed),
    persistedPointsPerSec: Math.round(persisted / elapsed),
    ackedPoints: acked,
    persistedPoints: persisted,
    allAckedPersisted: persisted === acked,
    series,
    pointsPerRequest: POINTS_PER_EXPORT * exportsPerRequest,
    requests: latencies.length,
    failedRequests: failed,
    ...(firstError ? { firstError } : {}),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    daemonCpuPct: Math.round((cpu / elapsed) * 100),
    daemonCpuUsPerPoint: Number(((cpu * 1e6) / Math.max(1, acked)).toFixed(2)),
    daemonPeakRssMb: rss,
    queryMs,
    loadgenEncodeMsPerRequest: Number((encodeMs / Math.max(1, latencies.length)).toFixed(2)),
    seconds: Number(elapsed.toFixed(1)),
    concurrency,
    instances,
    machine: `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
