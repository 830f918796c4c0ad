/**
 * Starts the spanlens daemon as a real child process (so it can be kill -9'd and measured through
 * /proc) on loopback port 0, and learns the bound ports from its JSON log lines on stderr.
 *
 * Entry: 'tsx' runs src/ directly (no build needed), 'dist' runs the compiled dist/main.js, 'auto' tries
 * tsx and falls back to dist when the daemon cannot start its writer worker under tsx: on Node 20,
 * `new Worker(url, { execArgv: ['--import', 'tsx'] })` does not apply tsx inside the worker
 * (privatenumber/tsx#354), and a span store that spawns its worker that way fails with
 * ERR_UNKNOWN_FILE_EXTENSION (src/store/sqlite/span-store.ts now registers tsx inside the worker instead).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type DaemonEntry = 'tsx' | 'dist' | 'auto';

export interface SpawnDaemonOptions {
  dataDir: string;
  entry?: DaemonEntry;
  /** A compiled main.js elsewhere (e.g. a private tsc --outDir build); overrides `entry`. */
  mainPath?: string;
  /** Ports are learned from info-level log lines, so nothing quieter than info. */
  logLevel?: 'info' | 'debug' | 'trace';
  /** A YAML config file (`--config`), e.g. for what-if benchmark runs with other tuning. */
  configFile?: string;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedDaemon {
  pid: number;
  grpcPort: number;
  httpPort: number;
  apiPort: number;
  entry: 'tsx' | 'dist';
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<DaemonExit>;
  /** The last stderr lines, for failure messages. */
  logTail(): string;
}

/** Remembers a failed tsx start so that later spawns in this process go straight to dist. */
let tsxBroken = false;

class StartError extends Error {
  constructor(
    message: string,
    readonly tsxWorkerProblem: boolean,
  ) {
    super(message);
  }
}

export async function spawnDaemon(options: SpawnDaemonOptions): Promise<SpawnedDaemon> {
  if (options.mainPath !== undefined) return start('dist', options);
  const wanted = options.entry ?? (process.env.SPANLENS_DAEMON_ENTRY as DaemonEntry | undefined) ?? 'auto';
  if (wanted !== 'auto') return start(wanted, options);
  if (!tsxBroken) {
    try {
      return await start('tsx', options);
    } catch (err) {
      if (!(err instanceof StartError && err.tsxWorkerProblem)) throw err;
      tsxBroken = true;
      process.stderr.write('spawn-daemon: the daemon cannot run its worker under tsx here; using dist/ (npm run build)\n');
    }
  }
  return start('dist', options);
}

function endpointPort(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const port = Number(text.slice(text.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function start(entry: 'tsx' | 'dist', options: SpawnDaemonOptions): Promise<SpawnedDaemon> {
  const main = options.mainPath ?? (entry === 'tsx' ? 'src/main.ts' : 'dist/main.js');
  if (entry === 'dist' && !existsSync(path.resolve(REPO_ROOT, main))) {
    return Promise.reject(new StartError(`${main} is missing: run npm run build`, false));
  }
  const args = [
    ...(options.nodeArgs ?? []),
    ...(entry === 'tsx' ? ['--import', 'tsx'] : []),
    main, 'serve',
    '--otlp-grpc', '127.0.0.1:0', '--otlp-http', '127.0.0.1:0', '--api', '127.0.0.1:0',
    '--data', options.dataDir, '--log-level', options.logLevel ?? 'info',
    ...(options.configFile !== undefined ? ['--config', options.configFile] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  // 'close', not 'exit': it comes after stderr is drained, so the log tail is complete on failure.
  const exited = new Promise<DaemonExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  // Never leave a daemon behind if the test process dies first (e.g. vitest timeout).
  const reap = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));

  return new Promise<SpawnedDaemon>((resolve, reject) => {
    const ports: { grpc?: number | undefined; http?: number | undefined; api?: number | undefined } = {};
    let settled = false;
    let partial = '';
    const timer = setTimeout(() => fail(`daemon not ready after ${options.readyTimeoutMs ?? 30_000} ms`), options.readyTimeoutMs ?? 30_000);
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reap();
      const log = tail.join('\n');
      reject(new StartError(`${why} (${entry}: ${args.join(' ')})\n${log}`, entry === 'tsx' && log.includes('ERR_UNKNOWN_FILE_EXTENSION')));
    };
    // Keep draining stderr for the daemon's whole life: a full pipe would block its logger.
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (settled || !line.startsWith('{')) continue;
        let entryLog: { msg?: string; endpoint?: unknown };
        try {
          entryLog = JSON.parse(line) as typeof entryLog;
        } catch {
          continue;
        }
        if (entryLog.msg === 'OTLP/gRPC receiver listening') ports.grpc = endpointPort(entryLog.endpoint);
        else if (entryLog.msg === 'OTLP/HTTP receiver listening') ports.http = endpointPort(entryLog.endpoint);
        else if (entryLog.msg === 'API listening') ports.api = endpointPort(entryLog.endpoint);
        else if (entryLog.msg === 'spanlens started') {
          if (ports.grpc === undefined || ports.http === undefined || ports.api === undefined) {
            fail('daemon started without logging all three endpoints');
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({
            pid: child.pid as number,
            grpcPort: ports.grpc,
            httpPort: ports.http,
            apiPort: ports.api,
            entry,
            kill: (signal = 'SIGTERM') => {
              if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, signal);
            },
            exited,
            logTail: () => tail.join('\n'),
          });
        }
      }
    });
    void exited.then(({ code, signal }) => fail(`daemon exited before it was ready (code ${code}, signal ${signal})`));
    child.once('error', (err) => fail(`cannot spawn node: ${err.message}`));
  });
}

/** Polls the API until `/readyz` answers 200 (e.g. after a restart, before asserting on queries). */
export async function waitReady(apiPort: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`daemon on API port ${apiPort} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
