import type { OtlpEncoding } from '../../model/otlp.js';
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
  retentionIntervalMs: number;
  /** The metrics series store; defaults apply when absent. */
  metrics?: MetricStoreSettings;
  /** Redaction before anything is stored; absent means off. */
  redaction?: RedactionSettings;
}

export type ToWriter =
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
  | { type: 'exported'; id: number; accepted: number; rejected: number; message: string }
  | { type: 'failed'; id: number; permanent: boolean; message: string }
  | { type: 'done'; id: number; stats?: WriterStats };
