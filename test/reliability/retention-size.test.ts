/**
 * Size retention under sustained load: with storage.retention.maxSize small, the database file and its
 * WAL must stay bounded while spans keep arriving (retention deletes the oldest arrival minutes and
 * SQLite reuses the freed pages; the WAL is checkpointed and truncated back to journal_size_limit).
 * Sizes are sampled from the file system, as an operator's disk would see them.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { spawnDaemon } from '../helpers/spawn-daemon.js';
import { encodeRequest, rawRequest, simpleSpans } from '../helpers/otlp-raw.js';

const MIB = 1024 * 1024;
const MAX_SIZE = 8 * MIB;

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

describe('retention.maxSize under sustained ingest', () => {
  it('keeps the database and the WAL bounded', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-retention-size-'));
    const configFile = path.join(dataDir, 'config.yaml');
    writeFileSync(configFile, `storage:\n  retention:\n    maxSize: ${MAX_SIZE}\n    checkInterval: 1s\n`);
    const daemon = await spawnDaemon({ dataDir, configFile });
    const db = path.join(dataDir, 'spans.db');
    let peakDb = 0;
    let peakWal = 0;
    const sampler = setInterval(() => {
      peakDb = Math.max(peakDb, sizeOf(db));
      peakWal = Math.max(peakWal, sizeOf(`${db}-wal`));
    }, 100);
    let written = 0;
    let running = true;
    try {
      const lane = async (): Promise<void> => {
        while (running) {
          const body = encodeRequest('retention-size', simpleSpans(2000, `op-${randomBytes(1).toString('hex')}`));
          const r = await rawRequest(`http://127.0.0.1:${daemon.httpPort}/v1/traces`, { headers: { 'Content-Type': 'application/x-protobuf' }, body });
          if (r.status === 200) written += 2000;
          else await new Promise((res) => setTimeout(res, 50));
        }
      };
      const lanes = Array.from({ length: 4 }, lane);
      await new Promise((r) => setTimeout(r, 10_000));
      running = false;
      await Promise.all(lanes);
      await new Promise((r) => setTimeout(r, 1500));
      peakDb = Math.max(peakDb, sizeOf(db));
      const metrics = await (await fetch(`http://127.0.0.1:${daemon.apiPort}/metrics`)).text();
      const deleted = Number(/spanlens_retention_deleted_total\{signal="spans"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      console.info(`retention-size: stored ${written} spans, retention deleted ${deleted}; peak db ${(peakDb / MIB).toFixed(1)} MiB, peak WAL ${(peakWal / MIB).toFixed(1)} MiB, maxSize ${MAX_SIZE / MIB} MiB`);
      // Enough went through that size retention had to delete.
      expect(deleted).toBeGreaterThan(0);
      // Retention starts as soon as a commit takes the store past the limit, not only on its timer.
      expect(peakDb).toBeLessThan(1.5 * MAX_SIZE);
      expect(peakWal).toBeLessThan(MAX_SIZE);
    } finally {
      running = false;
      clearInterval(sampler);
      daemon.kill('SIGKILL');
      await daemon.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
