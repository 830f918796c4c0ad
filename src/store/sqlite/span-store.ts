import type { Worker } from 'node:worker_threads';
import { spawnStoreWorker } from './worker-spawn.js';
import type { Logger } from 'pino';
import { PermanentError, RetryableError } from '../../pipeline/errors.js';
import type { ExportOutcome, MetricsConsumer, OtlpExportRequest, TracesConsumer } from '../../pipeline/consumer.js';
import type { FromWriter, ToWriter, WriterStats, WriterWorkerData } from './worker-protocol.js';
import { decodeForWriter, transferList } from './decoded-transfer.js';
import { Redactor } from '../../codec/redact.js';
import { addRedactionCounts } from '../../codec/redact-values.js';

interface Pending {
  resolve: (value: FromWriter) => void;
  reject: (err: Error) => void;
}

/**
 * Larger trace bodies are decoded by the writer instead: decoding costs 2–4 µs per span (~460 B), so a
 * 64 MiB export would hold the receiving thread's event loop for half a second; 4 MiB is ~30 ms.
 */
const MAX_DECODE_ON_RECEIVING_THREAD_BYTES = 4 * 1024 * 1024;

/** A copy this store owns outright, so it can be transferred to the worker without a second copy. */
function ownedCopy(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** Retry delay suggested when the writer is down or failing. */
const STORE_RETRY_AFTER_MS = 1000;
/** A full disk does not clear in a second (retention or an operator must free space): back clients off longer. */
const DISK_RETRY_AFTER_MS = 5000;

/**
 * The terminal TracesConsumer: hands each request to the writer worker and resolves after the worker
 * has committed it. If the worker dies, in-flight exports fail as retryable and a new worker is started;
 * nothing acknowledged can be lost because nothing is acknowledged before its commit.
 */
export class SqliteSpanStore implements TracesConsumer, MetricsConsumer {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing = false;
  private restarts = 0;
  private lastError = '';
  /** Spans are redacted on this thread, with the decode (decoded-transfer.ts); metric labels in the writer. */
  private readonly redactor: Redactor | undefined;

  constructor(
    private readonly settings: WriterWorkerData,
    private readonly logger: Logger,
  ) {
    this.redactor = settings.redaction?.enabled === true ? new Redactor(settings.redaction) : undefined;
  }

  get healthy(): boolean {
    return this.worker !== undefined && !this.closing;
  }

  get lastWriteError(): string {
    return this.lastError;
  }

  async start(): Promise<void> {
    await this.spawn();
  }

  /** Same contract as consumeTraces: the metrics series store lives in the same database and writer thread. */
  consumeMetrics(request: OtlpExportRequest): Promise<ExportOutcome> {
    const body = ownedCopy(request.body);
    return this.answer(this.call({ type: 'exportMetrics', id: 0, encoding: request.encoding, body }, [body]));
  }

  consumeTraces(request: OtlpExportRequest): Promise<ExportOutcome> {
    if (request.body.byteLength > MAX_DECODE_ON_RECEIVING_THREAD_BYTES) {
      const body = ownedCopy(request.body);
      return this.answer(this.call({ type: 'export', id: 0, encoding: request.encoding, body }, [body]));
    }
    let traces;
    try {
      traces = decodeForWriter(request, this.redactor);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.answer(this.call({ type: 'export', id: 0, traces }, transferList(traces)));
  }

  private answer(reply: Promise<FromWriter>): Promise<ExportOutcome> {
    return reply.then(
      (reply) => {
        if (reply.type === 'exported') {
          this.lastError = '';
          return { accepted: reply.accepted, rejected: reply.rejected, message: reply.message };
        }
        if (reply.type === 'failed' && reply.permanent) throw new PermanentError(reply.message);
        const message = reply.type === 'failed' ? reply.message : 'unexpected reply from the store';
        this.lastError = message;
        const disk = reply.type === 'failed' && reply.reason !== undefined;
        throw new RetryableError(message, disk ? DISK_RETRY_AFTER_MS : STORE_RETRY_AFTER_MS);
      },
    );
  }

  /** Writes everything queued and merges pending latency data; after it resolves, queries see it all. */
  async flush(): Promise<void> {
    await this.call({ type: 'flush', id: 0 });
  }

  async stats(): Promise<WriterStats | undefined> {
    const reply = await this.call({ type: 'stats', id: 0 });
    if (reply.type !== 'done' || reply.stats === undefined) return undefined;
    const redactions = this.redactor && addRedactionCounts(this.redactor.counts, reply.stats.redactions);
    return redactions ? { ...reply.stats, redactions } : reply.stats;
  }

  /** Idempotent: drains the queue, flushes histograms, checkpoints the WAL and stops the worker. */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call({ type: 'close', id: 0 });
    } finally {
      this.worker = undefined;
      await worker.terminate();
    }
  }

  private call(message: ToWriter, transfer: ArrayBuffer[] = []): Promise<FromWriter> {
    const worker = this.worker;
    if (!worker) {
      return Promise.reject(new RetryableError('span store is not running', STORE_RETRY_AFTER_MS));
    }
    const id = this.nextId++;
    return new Promise<FromWriter>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  private spawn(): Promise<void> {
    const worker = spawnStoreWorker('writer-worker', this.settings);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromWriter) => {
        if (message.type === 'ready') {
          ready = true;
          this.worker = worker;
          if (message.recoveredSpans > 0) {
            this.logger.info({ spans: message.recoveredSpans }, 'latency histograms caught up after an unclean stop');
          }
          resolve();
          return;
        }
        if (message.type === 'fatal') {
          reject(new Error(`cannot open the span store in ${this.settings.dataDir}: ${message.message}`));
          return;
        }
        if (message.type === 'warning') {
          this.logger.warn(message.message);
          return;
        }
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        pending.resolve(message);
      });
      worker.on('error', (err) => {
        this.logger.error({ err }, 'span writer crashed');
        if (!ready) reject(err);
      });
      worker.on('exit', (code) => {
        const wasCurrent = this.worker === worker;
        if (wasCurrent) this.worker = undefined;
        for (const [id, pending] of this.pending) {
          this.pending.delete(id);
          pending.reject(new RetryableError('span store restarted; retry', STORE_RETRY_AFTER_MS));
        }
        if (this.closing || !ready || !wasCurrent) return;
        this.restarts++;
        const delay = Math.min(30_000, 250 * 2 ** Math.min(this.restarts, 7));
        this.logger.error({ code, restartInMs: delay }, 'span writer exited; restarting');
        setTimeout(() => {
          if (!this.closing) this.spawn().catch((err: unknown) => this.logger.error({ err }, 'span writer restart failed'));
        }, delay).unref();
      });
    });
  }
}
