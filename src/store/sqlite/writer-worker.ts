/**
 * The SQLite writer thread. It owns the only write connection: writes trace exports (decoded on the
 * receiving thread, decoded-transfer.ts) and metric exports in group-committed transactions, keeps the
 * latency histograms and runs retention, so that none of this blocks the receivers' event loop; a
 * checkpoint thread of its own copies the WAL back (checkpoint-worker.ts). Each export is answered only
 * after its transaction commits.
 */
import { parentPort, workerData, type Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { openWriterDb, spansDbPath, walBudgetPages } from './open.js';
import { spawnStoreWorker } from './worker-spawn.js';
import type { CheckpointWorkerData, FromCheckpointer, ToCheckpointer } from './checkpoint-worker.js';
import { SqliteSpanWriter } from './span-writer.js';
import { Retention } from './retention.js';
import { writeFailure, type FromWriter, type ToWriter, type WriterWorkerData } from './worker-protocol.js';
import { decodeForWriter, type TransferredTraces } from './decoded-transfer.js';
import { PermanentError } from '../../pipeline/errors.js';
import { MetricIngest } from './metric-ingest.js';
import { DEFAULT_METRIC_STORE_SETTINGS } from './metric-writer.js';
import { Redactor } from '../../codec/redact.js';

const port = parentPort;
if (!port) throw new Error('writer-worker must run as a worker thread');
const settings = workerData as WriterWorkerData;

type ExportMessage = Extract<ToWriter, { type: 'export' }>;

// Spans mostly arrive decoded and redacted (decoded-transfer.ts); large trace bodies and metric labels
// are redacted here.
const redactor = settings.redaction?.enabled === true ? new Redactor(settings.redaction) : undefined;

function send(message: FromWriter): void {
  port?.postMessage(message);
}

let checkpointer: Worker | undefined;

function startCheckpointer(intervalMs: number): void {
  const data: CheckpointWorkerData = { dbPath: spansDbPath(settings.dataDir), intervalMs, walPages: Math.floor(walBudgetPages(db, settings.retention.maxBytes) / 2) };
  const worker = spawnStoreWorker('checkpoint-worker', data);
  worker.on('message', (message: FromCheckpointer) => {
    if (message.type === 'caughtUp') finishCheckpoint();
    else if (message.type === 'error') send({ type: 'warning', message: `background checkpoint failed: ${message.message}` });
  });
  // Without it the writer's own automatic checkpoint does all the work: slower, never unsafe.
  worker.on('error', (err) => send({ type: 'warning', message: `checkpoint thread stopped: ${err.message}` }));
  worker.on('exit', () => {
    if (checkpointer === worker) checkpointer = undefined;
  });
  checkpointer = worker;
}

/**
 * Copies the frames appended since the checkpoint thread's last pass, between two transactions, so that
 * the next transaction restarts the WAL from its beginning (see checkpoint-worker.ts).
 */
function finishCheckpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or failing: the next report, or the automatic checkpoint, tries again.
  }
}

/** Stops the checkpoint thread between two of its passes, so that the final checkpoint is the writer's. */
function stopCheckpointer(): Promise<void> {
  const worker = checkpointer;
  if (!worker) return Promise.resolve();
  checkpointer = undefined;
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    worker.postMessage({ type: 'stop' } satisfies ToCheckpointer);
  });
}

let db: Database.Database;
let writer: SqliteSpanWriter;
let retention: Retention;
let metrics: MetricIngest;
try {
  db = openWriterDb(settings.dataDir, {
    ...(settings.maxPages !== undefined ? { maxPages: settings.maxPages } : {}),
    ...(settings.cacheKiB !== undefined ? { cacheKiB: settings.cacheKiB } : {}),
    maxBytes: settings.retention.maxBytes,
  });
  writer = new SqliteSpanWriter(db, settings.writer);
  retention = new Retention(db, settings.retention);
  metrics = new MetricIngest(db, settings.metrics ?? DEFAULT_METRIC_STORE_SETTINGS, send, redactor && ((labels) => redactor.labels(labels)));
  const recoveredSpans = writer.latency.recover(Date.now());
  if (settings.checkpointIntervalMs > 0) startCheckpointer(settings.checkpointIntervalMs);
  send({ type: 'ready', recoveredSpans });
} catch (err) {
  send({ type: 'fatal', message: (err as Error).message });
  process.exit(1);
}

const queue: ExportMessage[] = [];
let drainScheduled = false;
let retentionRunning = false;

function scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  // setImmediate, not a microtask: messages that arrived during the last commit are delivered first,
  // so they join the next transaction (group commit).
  setImmediate(drain);
}

function drain(): void {
  drainScheduled = false;
  const batch: { id: number; traces: TransferredTraces }[] = [];
  let spans = 0;
  while (queue.length > 0 && spans < settings.maxBatchSpans) {
    const message = queue.shift() as ExportMessage;
    let traces: TransferredTraces;
    try {
      traces = 'traces' in message ? message.traces : decodeForWriter({ encoding: message.encoding, body: Buffer.from(message.body) }, redactor);
    } catch (err) {
      send({ type: 'failed', id: message.id, permanent: err instanceof PermanentError, message: (err as Error).message });
      continue;
    }
    batch.push({ id: message.id, traces });
    spans += traces.spanCount;
  }
  if (batch.length > 0) {
    try {
      const accepted = writer.writeBatch(
        batch.map((b) => b.traces),
        Date.now(),
      );
      batch.forEach((b, i) => {
        const reasons = b.traces.reasons;
        send({
          type: 'exported',
          id: b.id,
          accepted: accepted[i] ?? 0,
          rejected: b.traces.rejected,
          message: reasons.length > 0 ? `${b.traces.rejected} span(s) rejected: ${reasons.join('; ')}` : '',
        });
      });
    } catch (err) {
      // Disk full, I/O error, lock timeout: the client must retry, never drop.
      const failure = writeFailure(err);
      for (const b of batch) send({ type: 'failed', id: b.id, permanent: false, ...failure });
    }
    // Past the size limit, retention starts now rather than at its next tick: on the timer alone the
    // file grows by a whole check interval of ingest beyond the limit (seconds of it at full rate).
    if (!retentionRunning && retention.liveBytes() > settings.retention.maxBytes) runRetention();
  }
  if (queue.length > 0) scheduleDrain();
}

function drainAll(): void {
  while (queue.length > 0) drain();
}

function runRetention(): void {
  if (retentionRunning) return;
  retentionRunning = true;
  const loop = (): void => {
    let more = false;
    try {
      const now = Date.now();
      more = retention.step(now);
      const r = settings.retention;
      more = metrics.retentionStep(now, r.maxAgeMs, retention.liveBytes() > r.maxBytes, r.batchRows) || more;
    } catch {
      more = false; // Retried on the next interval; a failed delete loses nothing.
    }
    if (more) setImmediate(loop);
    else retentionRunning = false;
  };
  loop();
}

const flushTimer = setInterval(() => {
  try {
    writer.latency.flush();
    writer.latency.evictStale(Date.now());
  } catch {
    // Deltas stay in memory and the watermark does not move: the next flush (or a restart) retries.
  }
}, settings.latencyFlushIntervalMs);
const retentionTimer = setInterval(runRetention, settings.retentionIntervalMs);
setImmediate(runRetention);

function stats(): FromWriter {
  return {
    type: 'done',
    id: 0,
    stats: {
      liveBytes: retention.liveBytes(),
      activeLatencySeries: writer.latency.activeSeries,
      retentionDeletedSpans: retention.deletedSpans,
      latencyWatermark: writer.latency.flushedWatermark,
      metricSeries: metrics.writer.seriesCount,
      metricOverflowPoints: metrics.writer.overflowPoints,
      retentionDeletedMetricPoints: metrics.deletedPoints,
      ...(redactor ? { redactions: { ...redactor.counts } } : {}),
    },
  };
}

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'export':
      queue.push(message);
      scheduleDrain();
      return;
    case 'exportMetrics':
      metrics.enqueue(message);
      return;
    case 'flush':
      drainAll();
      metrics.drainAll();
      writer.latency.flush();
      send({ type: 'done', id: message.id });
      return;
    case 'stats':
      send({ ...stats(), id: message.id } as FromWriter);
      return;
    case 'close':
      clearInterval(flushTimer);
      clearInterval(retentionTimer);
      drainAll();
      metrics.drainAll();
      writer.latency.flush();
      void stopCheckpointer().then(() => {
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        send({ type: 'done', id: message.id });
        port.close();
      });
      return;
  }
});
