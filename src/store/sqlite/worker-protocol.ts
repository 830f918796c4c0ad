import type { OtlpEncoding } from '../../model/otlp.js';
import type { TransferredTraces } from './decoded-transfer.js';
import type { SpanWriterSettings } from './span-writer.js';
import type { RetentionSettings } from './retention.js';
import type { MetricStoreSettings } from './metric-writer.js';
import type { RedactionCounts, RedactionSettings } from '../../codec/redact-values.js';

/** Settings handed to the writer worker at spawn. */
export interface WriterWorkerData {
  dataDir: string;
  writer: SpanWriterSettings;
  retention: RetentionSettings;
  /** Most spans written in one transaction (group commit bound). */
  maxBatchSpans: number;
  latencyFlushIntervalMs: number;
  /** Period of the background WAL checkpoints (checkpoint-worker.ts); 0 = none. */
  checkpointIntervalMs: number;
  retentionIntervalMs: number;
  /** The metrics series store; defaults apply when absent. */
  metrics?: MetricStoreSettings;
  /** SQLite max_page_count: a size cap that fails writes with SQLITE_FULL, as a full disk does. */
  maxPages?: number;
  /** Writer page cache in KiB (default 64 MiB), scaled down with limits.memory. */
  cacheKiB?: number;
  /** Redaction before anything is stored (spans on the receiving thread, metric labels here); absent means off. */
  redaction?: RedactionSettings;
}

export type ToWriter =
  /** Decoded on the receiving thread (`traces`), or, for a large body, left for the writer to decode. */
  | { type: 'export'; id: number; traces: TransferredTraces }
  | { type: 'export'; id: number; encoding: OtlpEncoding; body: ArrayBuffer }
  | { type: 'exportMetrics'; id: number; encoding: OtlpEncoding; body: ArrayBuffer }
  | { type: 'flush'; id: number }
  | { type: 'stats'; id: number }
  | { type: 'close'; id: number };

export interface WriterStats {
  liveBytes: number;
  activeLatencySeries: number;
  retentionDeletedSpans: number;
  latencyWatermark: number;
  metricSeries?: number;
  metricOverflowPoints?: number;
  retentionDeletedMetricPoints?: number;
  /** Values redacted since this worker started, by kind; absent when redaction is off. */
  redactions?: RedactionCounts;
}

export type FromWriter =
  | { type: 'ready'; recoveredSpans: number }
  | { type: 'fatal'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'exported'; id: number; accepted: number; rejected: number; message: string }
  | { type: 'failed'; id: number; permanent: boolean; message: string; reason?: WriteFailure }
  | { type: 'done'; id: number; stats?: WriterStats };

/** Write failures that say something about the disk rather than the request. */
export type WriteFailure = 'disk_full' | 'io_error';

/**
 * Classifies a failed commit by its SQLite error code (better-sqlite3 puts the extended code in
 * `code`): SQLITE_FULL is a full disk or the max_page_count cap, SQLITE_IOERR_* a failing write.
 */
export function writeFailure(err: unknown): { message: string; reason?: WriteFailure } {
  const code = typeof (err as { code?: unknown }).code === 'string' ? ((err as { code: string }).code) : '';
  const text = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_FULL') return { message: `store write failed: disk full (${code}: ${text})`, reason: 'disk_full' };
  if (code.startsWith('SQLITE_IOERR')) return { message: `store write failed: I/O error (${code}: ${text})`, reason: 'io_error' };
  return { message: `store write failed: ${code ? `${code}: ` : ''}${text}` };
}
