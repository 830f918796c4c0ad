/**
 * The checkpoint thread: copies committed WAL frames back into the database file (and fsyncs it) so
 * that the writer thread mostly just appends. Checkpointing inside the writer's commits measured
 * 1.5–3 µs per span at full ingest (bench/writer-stages.ts, `wal_autocheckpoint=0` against the default),
 * a fifth of the writer's time, and the writer is the one serial stage of ingest.
 *
 * Only PASSIVE checkpoints run here: they never block the writer or readers. But the WAL only starts
 * over from its beginning once every frame is copied, which cannot happen while the writer keeps
 * appending. So once the WAL has reached half its budget, this thread reports how far it got and the
 * writer, between two transactions, copies the few frames appended since (writer-worker.ts); its next
 * transaction then restarts the WAL. The writer's automatic checkpoint stays at the full budget
 * (open.ts): should this thread fall behind or die, the WAL stays bounded exactly as without it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  dbPath: string;
  intervalMs: number;
  /** WAL frames at which the writer is asked to finish the checkpoint so that the WAL restarts. */
  walPages: number;
}

export type ToCheckpointer = { type: 'stop' };
export type FromCheckpointer = { type: 'caughtUp'; walFrames: number } | { type: 'stopped' } | { type: 'error'; message: string };

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const port = parentPort;
if (!port) throw new Error('checkpoint-worker must run as a worker thread');
const settings = workerData as CheckpointWorkerData;
const db = new Database(settings.dbPath, { fileMustExist: true });
// The checkpoint lock is tried, never waited for: if the writer is checkpointing, skip this tick.
db.pragma('busy_timeout = 0');
db.pragma('wal_autocheckpoint = 0');

let timer: NodeJS.Timeout | undefined;
let failing = false;

function passive(): CheckpointResult {
  return (db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0] as CheckpointResult;
}

function tick(): void {
  try {
    let result = passive();
    if (result.log >= settings.walPages) {
      // A second pass copies what was appended during the first, which leaves the writer only the
      // frames of a few milliseconds to copy itself.
      result = passive();
      port?.postMessage({ type: 'caughtUp', walFrames: result.log } satisfies FromCheckpointer);
    }
    failing = false;
  } catch (err) {
    // Reported once per run of failures; the writer's own checkpoint keeps the WAL bounded meanwhile.
    if (!failing) port?.postMessage({ type: 'error', message: (err as Error).message } satisfies FromCheckpointer);
    failing = true;
  }
  timer = setTimeout(tick, settings.intervalMs);
}

timer = setTimeout(tick, settings.intervalMs);

port.on('message', (message: ToCheckpointer) => {
  if (message.type !== 'stop') return;
  clearTimeout(timer);
  db.close();
  port.postMessage({ type: 'stopped' } satisfies FromCheckpointer);
  port.close();
});
