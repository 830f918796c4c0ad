/**
 * kill -9 crash loop: N rounds of high-rate ingest into one data directory, each ended by SIGKILL at a
 * random moment, then a restart and a durability check (every acknowledged span present, nothing
 * duplicated or invented, PRAGMA integrity_check ok, histogram counts == stored spans per service).
 *
 *   npx tsx bench/crash-loop.ts [--rounds 20] [--concurrency 12] [--spans-per-request 500]
 *                               [--transport http|grpc] [--min-kill-ms 300] [--max-kill-ms 3000]
 *                               [--daemon auto|dist|tsx] [--keep-data]
 *
 * stdout: ONE JSON summary line; progress goes to stderr. Exit code 1 if any round failed a check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnDaemon, type DaemonEntry, type SpawnedDaemon } from '../test/helpers/spawn-daemon.js';
import { DEFAULT_SHAPE } from './lib/otlp-payload.js';
import { Lane, runNonce } from './lib/request-template.js';
import { CrashVerifier, spansDb } from './lib/crash-check.js';
import { crashRound, roundOk, type CrashRoundResult } from './lib/crash-round.js';
import type { Transport } from './lib/load.js';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '12' },
    'spans-per-request': { type: 'string', default: '500' },
    transport: { type: 'string', default: 'http' },
    'min-kill-ms': { type: 'string', default: '300' },
    'max-kill-ms': { type: 'string', default: '3000' },
    daemon: { type: 'string', default: 'auto' },
    'keep-data': { type: 'boolean', default: false },
  },
});

const rounds = Number(opts.rounds);
const concurrency = Number(opts.concurrency);
const transport = opts.transport as Transport;
const minKill = Number(opts['min-kill-ms']);
const maxKill = Number(opts['max-kill-ms']);
if (transport !== 'http' && transport !== 'grpc') throw new Error('--transport must be http or grpc');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
};

async function main(): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-crash-loop-'));
  const baseMs = Date.now();
  const startedAt = performance.now();
  const shape = { ...DEFAULT_SHAPE, spansPerRequest: Number(opts['spans-per-request']) };
  const nonce = runNonce();
  const lanes = Array.from({ length: concurrency }, (_, k) => new Lane(k, shape, nonce, BigInt(baseMs) * 1_000_000n, 3, 11));
  const verifier = new CrashVerifier(spansDb(dataDir));
  const restart = (): Promise<SpawnedDaemon> => spawnDaemon({ dataDir, entry: opts.daemon as DaemonEntry });
  let daemon = await restart();
  const results: CrashRoundResult[] = [];
  const failed: { round: number; result: CrashRoundResult }[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const killAfterMs = minKill + Math.floor(Math.random() * (maxKill - minKill));
      const { daemon: restarted, result } = await crashRound({
        daemon,
        lanes,
        transport,
        killAfterMs,
        verifier,
        restart,
        latencyWindow: { startMs: baseMs - 3_600_000, endMs: Date.now() + 3_600_000 },
      });
      daemon = restarted;
      results.push(result);
      const ok = roundOk(result);
      if (!ok) failed.push({ round, result });
      process.stderr.write(
        `round ${round}/${rounds}: kill after ${killAfterMs} ms, acked ${result.ackedSpans} spans in ${result.ackedRequests}/${result.sentRequests} exports, ` +
          `new rows ${result.check.newRows}, replayed ${result.replayedSpans}, missing ${result.check.missing}, ` +
          `integrity ${result.check.integrity}, restart ${result.restartMs} ms${ok ? '' : '  <-- FAILED'}\n`,
      );
    }
    daemon.kill('SIGTERM');
    const exit = await daemon.exited;
    const final = new CrashVerifier(spansDb(dataDir)).check([], []);
    const sum = (f: (r: CrashRoundResult) => number): number => results.reduce((a, r) => a + f(r), 0);
    const loadSeconds = sum((r) => r.killAfterMs) / 1000;
    const summary = {
      rounds: results.length,
      transport,
      concurrency,
      spansPerRequest: shape.spansPerRequest,
      ackedSpans: sum((r) => r.check.ackedSpans),
      storedSpans: final.totalRows,
      missing: sum((r) => r.check.missing),
      duplicates: sum((r) => r.check.duplicates),
      unexpected: sum((r) => r.check.unexpected),
      storedNotAcked: sum((r) => r.check.newRows - r.check.ackedSpans),
      integrity: final.integrity === 'ok' && results.every((r) => r.check.integrity === 'ok') ? 'ok' : final.integrity,
      latencyMismatches: results.filter((r) => Object.keys(r.latencyDiff).length > 0).length,
      apiTraceMismatches: sum((r) => r.apiWrong.length),
      histogramReplayedSpans: sum((r) => r.replayedSpans),
      ackedSpansPerSecUnderLoad: Math.round(sum((r) => r.check.ackedSpans) / loadSeconds),
      killAfterMs: { min: Math.min(...results.map((r) => r.killAfterMs)), max: Math.max(...results.map((r) => r.killAfterMs)) },
      restartMsMedian: median(results.map((r) => r.restartMs)),
      elapsedMs: Math.round(performance.now() - startedAt),
      cleanShutdownExitCode: exit.code,
      daemonEntry: daemon.entry,
      failedRounds: failed.map(({ round, result }) => ({ round, ...result.check, latencyDiff: result.latencyDiff, apiWrong: result.apiWrong })),
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
    const bad = summary.missing + summary.duplicates + summary.unexpected + summary.latencyMismatches + summary.apiTraceMismatches;
    return bad === 0 && summary.integrity === 'ok' && final.totalRows === sum((r) => r.check.newRows) ? 0 : 1;
  } finally {
    daemon.kill('SIGKILL');
    await daemon.exited;
    if (opts['keep-data']) process.stderr.write(`data kept in ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`crash-loop: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
