/**
 * Ingest benchmark: the same pre-encoded load against (a) a decode-only sink and (b) the real daemon,
 * on the same transport, in the same run; reports accepted spans/s, export latency, daemon CPU and peak
 * RSS, and the daemon/decode-only ratio (the cost of persistence). See bench/README.md.
 *
 *   npx tsx bench/ingest.ts [--seconds 20] [--warmup 2] [--concurrency 8] [--spans-per-request 500]
 *                           [--transport grpc|http|both] [--workers 1] [--daemon dist|tsx|auto]
 *                           [--daemon-main path/to/main.js] [--daemon-config file.yaml]
 *                           [--profile] [--keep-data]
 *
 * stdout: exactly one JSON line per transport. Everything else goes to stderr.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { REPO_ROOT, spawnDaemon, type DaemonEntry } from '../test/helpers/spawn-daemon.js';
import { DEFAULT_SHAPE } from './lib/otlp-payload.js';
import { runNonce } from './lib/request-template.js';
import type { Transport } from './lib/load.js';
import type { LoadgenData, LoadgenDone, LoadgenGo } from './lib/loadgen-worker.js';
import { cpuSeconds, percentile, statusMb } from './lib/proc-stats.js';
import { summarizeDir } from './lib/cpuprofile.js';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    'spans-per-request': { type: 'string', default: '500' },
    transport: { type: 'string', default: 'both' },
    workers: { type: 'string', default: '1' },
    daemon: { type: 'string', default: 'dist' },
    'daemon-main': { type: 'string' },
    'daemon-config': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
  },
});
const seconds = Number(opts.seconds);
const warmupMs = Number(opts.warmup) * 1000;
const concurrency = Number(opts.concurrency);
const workers = Math.max(1, Math.min(Number(opts.workers), concurrency));
const shape = { ...DEFAULT_SHAPE, spansPerRequest: Number(opts['spans-per-request']) };
const transports: Transport[] = opts.transport === 'both' ? ['grpc', 'http'] : [opts.transport as Transport];
if (!transports.every((t) => t === 'grpc' || t === 'http')) throw new Error('--transport must be grpc, http or both');
const log = (line: string): void => void process.stderr.write(`ingest: ${line}\n`);

interface PhaseResult {
  spansPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuPct: number;
  cpuUsPerSpan: number;
  peakRssMb: number;
  acked: number;
  failedRequests: number;
  firstError?: string;
  loadgenCpuPct: number;
  bytesPerSpan: number;
  stored?: number;
}

interface Target {
  pid: number;
  port: number;
  /** Stops the target; resolves with the stored span count for the daemon. */
  stop(): Promise<number | undefined>;
}

/** Worker threads do not inherit tsx's loader on Node 20 (tsx#354): register it inside the worker first. */
function startLoadgen(data: LoadgenData): Worker {
  const url = new URL(import.meta.url.endsWith('.ts') ? './lib/loadgen-worker.ts' : './lib/loadgen-worker.js', import.meta.url).href;
  if (!url.endsWith('.ts')) return new Worker(new URL(url), { workerData: data });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

async function startSink(transport: Transport): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/decode-sink.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { grpcPort: number; httpPort: number });
    });
    void exited.then(() => reject(new Error('decode-sink exited before listening')));
  });
  return {
    pid: child.pid as number,
    port: transport === 'grpc' ? ports.grpcPort : ports.httpPort,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return undefined;
    },
  };
}

/** Newest modification time of any file under `dir`. */
function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The daemon is measured as `npm start` runs it, compiled: under tsx it also carries the loader thread
 * and its caches (~70 MiB more RSS here, which moves it toward its memory soft limit). A missing or
 * stale dist/ is rebuilt first, so a run never measures code older than src/.
 */
function ensureBuilt(): void {
  const main = path.join(REPO_ROOT, 'dist', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtimeMs(path.join(REPO_ROOT, 'src'))) return;
  log('dist/ is missing or older than src/: npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function startDaemon(transport: Transport, profileDir: string | undefined): Promise<Target & { entry: string }> {
  if (opts['daemon-main'] === undefined && opts.daemon === 'dist') ensureBuilt();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-bench-'));
  const daemon = await spawnDaemon({
    dataDir,
    entry: opts.daemon as DaemonEntry,
    ...(opts['daemon-main'] !== undefined ? { mainPath: path.resolve(opts['daemon-main']) } : {}),
    ...(opts['daemon-config'] !== undefined ? { configFile: path.resolve(opts['daemon-config']) } : {}),
    ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
  });
  return {
    pid: daemon.pid,
    entry: daemon.entry,
    port: transport === 'grpc' ? daemon.grpcPort : daemon.httpPort,
    stop: async () => {
      daemon.kill('SIGTERM');
      const exit = await daemon.exited;
      if (exit.code !== 0) log(`daemon exited with ${JSON.stringify(exit)}\n${daemon.logTail()}`);
      // After a clean stop everything is checkpointed into spans.db: count what the store really holds.
      const db = new Database(path.join(dataDir, 'spans.db'), { readonly: true, fileMustExist: true });
      const stored = (db.prepare('SELECT coalesce(sum(span_count), 0) AS n FROM trace_chunks').get() as { n: number }).n;
      db.close();
      if (opts['keep-data']) log(`daemon data kept in ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
      return stored;
    },
  };
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

async function drive(transport: Transport, target: Target): Promise<PhaseResult> {
  const nonce = runNonce();
  const perWorker = Math.ceil(concurrency / workers);
  const loadgens = Array.from({ length: workers }, (_, w) => {
    const laneIds = Array.from({ length: concurrency }, (_, k) => k).filter((k) => Math.floor(k / perWorker) === w);
    return startLoadgen({ transport, port: target.port, laneIds, shape, nonceHex: nonce.toString('hex'), baseMs: Date.now(), seed: 5 });
  });
  const results = loadgens.map(
    (w) =>
      new Promise<LoadgenDone>((resolve, reject) => {
        w.on('message', (m: LoadgenDone | { type: 'ready' }) => {
          if (m.type === 'done') resolve(m);
        });
        w.once('error', reject);
      }),
  );
  await Promise.all(loadgens.map((w) => new Promise<void>((r) => w.once('message', () => r()))));
  const windowStartMs = Date.now() + 50 + warmupMs;
  const go: LoadgenGo = { type: 'go', windowStartMs, windowEndMs: windowStartMs + seconds * 1000 };
  for (const w of loadgens) w.postMessage(go);
  await sleepUntil(go.windowStartMs);
  const cpu0 = cpuSeconds(target.pid);
  const self0 = cpuSeconds('self');
  const wall0 = performance.now();
  await sleepUntil(go.windowEndMs);
  const cpu1 = cpuSeconds(target.pid);
  const self1 = cpuSeconds('self');
  const wall = (performance.now() - wall0) / 1000;
  const peakRssMb = statusMb(target.pid, 'VmHWM');
  const done = await Promise.all(results);
  await Promise.all(loadgens.map((w) => w.terminate()));
  const windowSpans = done.reduce((a, d) => a + d.windowSpans, 0);
  const lat = new Float64Array(done.reduce((a, d) => a + d.latencies.length, 0));
  let off = 0;
  for (const d of done) {
    lat.set(d.latencies, off);
    off += d.latencies.length;
  }
  lat.sort();
  const failed = done.reduce((a, d) => a + d.failures, 0);
  const firstError = done.find((d) => d.firstError !== '')?.firstError;
  return {
    spansPerSec: Math.round(windowSpans / seconds),
    p50Ms: Math.round(percentile(lat, 50) * 10) / 10,
    p99Ms: Math.round(percentile(lat, 99) * 10) / 10,
    cpuPct: Math.round(((cpu1 - cpu0) / wall) * 1000) / 10,
    cpuUsPerSpan: windowSpans > 0 ? Math.round(((cpu1 - cpu0) * 1e6 * 100) / windowSpans) / 100 : 0,
    peakRssMb,
    acked: done.reduce((a, d) => a + d.ackedSpans, 0),
    failedRequests: failed,
    ...(firstError !== undefined ? { firstError } : {}),
    loadgenCpuPct: Math.round(((self1 - self0) / wall) * 1000) / 10,
    bytesPerSpan: Math.round(done[0]?.bytesPerSpan ?? 0),
  };
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  const machine = { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', node: process.version };
  for (const transport of transports) {
    log(`${transport}: decode-only sink, ${seconds} s (+${warmupMs / 1000} s warm-up), concurrency ${concurrency}`);
    const sink = await startSink(transport);
    const decodeOnly = await drive(transport, sink);
    await sink.stop();
    log(`${transport}: decode-only ${decodeOnly.spansPerSec} spans/s; now the daemon`);
    const profileDir = opts.profile ? mkdtempSync(path.join(os.tmpdir(), 'spanlens-prof-')) : undefined;
    const daemonTarget = await startDaemon(transport, profileDir);
    const daemon = await drive(transport, daemonTarget);
    const stored = (await daemonTarget.stop()) ?? 0;
    daemon.stored = stored;
    const { bytesPerSpan, ...daemonOut } = daemon;
    const { bytesPerSpan: _b, ...decodeOut } = decodeOnly;
    const line = {
      machine,
      transport,
      concurrency,
      spansPerRequest: shape.spansPerRequest,
      seconds,
      bytesPerSpan,
      daemonEntry: daemonTarget.entry,
      daemon: daemonOut,
      decodeOnly: decodeOut,
      ratio: decodeOnly.spansPerSec > 0 ? Math.round((daemon.spansPerSec / decodeOnly.spansPerSec) * 1000) / 1000 : 0,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
    if (stored < daemon.acked) log(`WARNING: the store holds ${stored} spans but ${daemon.acked} were acknowledged`);
    if (profileDir) {
      for (const t of summarizeDir(profileDir)) {
        log(`profile ${t.file}: busy ${t.busyMs} ms, idle ${t.idleMs} ms; by area (ms) ${JSON.stringify(t.areas)}`);
        for (const f of t.top) log(`  ${String(f.pct).padStart(5)} %  ${f.selfMs} ms  ${f.fn}  ${f.where}`);
      }
      log(`profiles in ${profileDir}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log((err as Error).stack ?? String(err));
    process.exit(1);
  },
);
