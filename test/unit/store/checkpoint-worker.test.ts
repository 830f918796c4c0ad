import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawnStoreWorker } from '../../../src/store/sqlite/worker-spawn.js';
import type { CheckpointWorkerData, FromCheckpointer } from '../../../src/store/sqlite/checkpoint-worker.js';

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('checkpoint worker', () => {
  it('copies the WAL while the writer appends, and says when the writer should finish so that the WAL restarts', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-ckpt-'));
    dirs.push(dir);
    const dbPath = path.join(dir, 'spans.db');
    const writer = new Database(dbPath);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    // The writer never checkpoints by itself here: every copied frame is the worker's.
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)');
    const insert = writer.prepare('INSERT INTO t (payload) VALUES (?)');
    const data: CheckpointWorkerData = { dbPath, intervalMs: 10, walPages: 200 };
    const worker = spawnStoreWorker('checkpoint-worker', data);
    const caughtUp: number[] = [];
    worker.on('message', (m: FromCheckpointer) => {
      if (m.type === 'caughtUp') caughtUp.push(m.walFrames);
    });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const stopWorker = async (): Promise<void> => {
      worker.postMessage({ type: 'stop' });
      await exited;
    };
    try {
      // ~100 pages per transaction, a transaction every 5 ms, until the worker reports (it may start
      // late on a loaded machine: bounded by time, not by a count of transactions).
      const deadline = Date.now() + 20_000;
      for (let i = 0; Date.now() < deadline && caughtUp.length === 0; i++) {
        writer.transaction(() => {
          for (let k = 0; k < 100; k++) insert.run(Buffer.alloc(3000, i));
        })();
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(caughtUp.length).toBeGreaterThan(0);
      expect(caughtUp[0]).toBeGreaterThanOrEqual(200);
      // Stopped first, so that its next periodic pass cannot hold the checkpoint lock (busy) during ours.
      await stopWorker();
      // The worker copied (nearly) everything: the writer's own pass finds at most the last few frames.
      const before = (writer.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0] as CheckpointResult;
      expect(before.busy).toBe(0);
      expect(before.checkpointed).toBe(before.log);
      // And the next transaction starts the WAL over from its beginning.
      writer.transaction(() => insert.run(Buffer.alloc(10)))();
      const after = (writer.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0] as CheckpointResult;
      expect(after.log).toBeLessThan(10);
      expect((writer.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      await stopWorker();
      writer.close();
    }
  });
});
