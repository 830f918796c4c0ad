/**
 * Durability under kill -9: spanlens acknowledges an export only after its transaction commits, so
 * SIGKILL at any moment must lose nothing that was acknowledged, must not corrupt the database, and the
 * latency histograms must count every stored span exactly once (the writer replays spans committed
 * after the last histogram flush on restart). CI-sized: 3 rounds, HTTP/protobuf, 200 spans per request.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnDaemon, type SpawnedDaemon } from '../helpers/spawn-daemon.js';
import { DEFAULT_SHAPE } from '../../bench/lib/otlp-payload.js';
import { Lane, runNonce } from '../../bench/lib/request-template.js';
import { CrashVerifier, spansDb } from '../../bench/lib/crash-check.js';
import { crashRound, type CrashRoundResult } from '../../bench/lib/crash-round.js';

const ROUNDS = 3;
const LANES = 6;
const SPANS_PER_REQUEST = 200;

describe('kill -9 during ingest', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-kill9-'));
  let daemon: SpawnedDaemon | undefined;

  afterAll(async () => {
    if (daemon) {
      daemon.kill('SIGKILL');
      await daemon.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged span, an intact database and exact histogram counts', async () => {
    const nonce = runNonce();
    const baseMs = Date.now();
    const baseNs = BigInt(baseMs) * 1_000_000n;
    const shape = { ...DEFAULT_SHAPE, spansPerRequest: SPANS_PER_REQUEST };
    const lanes = Array.from({ length: LANES }, (_, k) => new Lane(k, shape, nonce, baseNs, 2, 7));
    const verifier = new CrashVerifier(spansDb(dataDir));
    const restart = (): Promise<SpawnedDaemon> => spawnDaemon({ dataDir });
    daemon = await restart();

    const results: CrashRoundResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A random moment, late enough that exports are flowing and early enough for the 60 s budget.
      const killAfterMs = 400 + Math.floor(Math.random() * 1600);
      const { daemon: restarted, result } = await crashRound({
        daemon,
        lanes,
        transport: 'http',
        killAfterMs,
        verifier,
        restart,
        latencyWindow: { startMs: baseMs - 3_600_000, endMs: Date.now() + 3_600_000 },
      });
      daemon = restarted;
      results.push(result);
      // One line per round in the test output: what was acknowledged, stored and replayed.
      console.info(
        `kill9 round ${round + 1}: kill after ${killAfterMs} ms, acked ${result.ackedRequests}/${result.sentRequests} exports ` +
          `(${result.ackedSpans} spans), new rows ${result.check.newRows}, histogram replay ${result.replayedSpans}, restart ${result.restartMs} ms`,
      );
      const where = `round ${round + 1} (kill after ${killAfterMs} ms, ${result.ackedRequests} acked exports)`;
      expect(result.ackedRequests, where).toBeGreaterThan(0);
      expect(result.check.integrity, where).toBe('ok');
      expect(result.check.missing, `${where}: acknowledged spans missing`).toBe(0);
      expect(result.check.duplicates, `${where}: spans stored twice`).toBe(0);
      expect(result.check.unexpected, `${where}: rows from no request of this round`).toBe(0);
      expect(result.check.newRows, where).toBeGreaterThanOrEqual(result.ackedSpans);
      expect(result.latencyDiff, `${where}: histogram count != stored spans`).toEqual({});
      expect(result.apiWrong, `${where}: traces through the API`).toEqual([]);
    }

    // A clean stop after the crashes: the checkpointed database must still be intact and complete.
    daemon.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    daemon = undefined;
    const final = new CrashVerifier(spansDb(dataDir)).check([], []);
    expect(final.integrity).toBe('ok');
    const stored = results.reduce((a, r) => a + r.check.newRows, 0);
    expect(final.totalRows).toBe(stored);
  });
});
