import type Database from 'better-sqlite3';
import { SqliteMetricWriter, type MetricStoreSettings } from './metric-writer.js';
import { writeFailure, type FromWriter } from './worker-protocol.js';
import { decodeMetricsRequest } from '../../codec/metrics-decode.js';
import { MalformedProtobufError } from '../../codec/wire-reader.js';
import { MalformedJsonError } from '../../codec/otlp-json-in.js';
import type { DecodedMetrics } from '../../model/metric.js';
import type { OtlpEncoding } from '../../model/otlp.js';
import type { Labels } from '../../model/metric.js';

export interface MetricsExportMessage {
  id: number;
  encoding: OtlpEncoding;
  body: ArrayBuffer;
}

const MINUTE_MS = 60_000;

/**
 * The metrics half of the writer worker: queues ExportMetricsServiceRequest bodies, decodes them and
 * writes everything queued in one transaction (group commit), answering each export after COMMIT.
 * Runs on the writer thread beside the span writer, on the same connection and database file.
 */
export class MetricIngest {
  private readonly queue: MetricsExportMessage[] = [];
  private scheduled = false;
  readonly writer: SqliteMetricWriter;
  deletedPoints = 0;

  constructor(
    db: Database.Database,
    private readonly settings: MetricStoreSettings,
    private readonly send: (message: FromWriter) => void,
    /** Redacts label sets (resource, point, exemplar) before series are keyed and stored. */
    private readonly redact?: (labels: Labels) => void,
  ) {
    this.writer = new SqliteMetricWriter(db, settings);
  }

  enqueue(message: MetricsExportMessage): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  drainAll(): void {
    while (this.queue.length > 0) this.drain();
  }

  /**
   * One bounded retention step: points older than `maxAgeMs` (by point time, whole hour buckets), and
   * the oldest hour when the database is over its size limit (never the current hour). True while more remains.
   */
  retentionStep(nowMs: number, maxAgeMs: number, overSize: boolean, batchRows: number): boolean {
    let cutoffNs = BigInt(Math.floor((nowMs - maxAgeMs) / MINUTE_MS)) * 60_000_000_000n;
    if (overSize) {
      const oldest = this.writer.oldestBucketEndNs();
      const currentHourNs = (BigInt(nowMs) * 1_000_000n / 3_600_000_000_000n) * 3_600_000_000_000n;
      if (oldest !== null && oldest <= currentHourNs && oldest > cutoffNs) cutoffNs = oldest;
    }
    const { more, points } = this.writer.deleteBefore(cutoffNs, batchRows);
    this.deletedPoints += points;
    return more;
  }

  private drain(): void {
    this.scheduled = false;
    const batch: { id: number; decoded: DecodedMetrics }[] = [];
    let points = 0;
    while (this.queue.length > 0 && points < this.settings.maxBatchPoints) {
      const message = this.queue.shift() as MetricsExportMessage;
      try {
        const decoded = decodeMetricsRequest(message.encoding, Buffer.from(message.body), this.redact);
        batch.push({ id: message.id, decoded });
        points += decoded.pointCount;
      } catch (err) {
        const permanent = err instanceof MalformedProtobufError || err instanceof MalformedJsonError;
        const prefix = message.encoding === 'json' ? 'invalid OTLP/JSON: ' : 'invalid OTLP protobuf: ';
        this.send({ type: 'failed', id: message.id, permanent, message: prefix + (err as Error).message });
      }
    }
    if (batch.length > 0) {
      try {
        const accepted = this.writer.writeBatch(batch.map((b) => b.decoded));
        batch.forEach((b, i) => {
          const { rejected, reasons } = b.decoded;
          this.send({
            type: 'exported',
            id: b.id,
            accepted: accepted[i] ?? 0,
            rejected,
            message: rejected > 0 ? `${rejected} data point(s) rejected: ${reasons.join('; ')}` : '',
          });
        });
      } catch (err) {
        const failure = writeFailure(err);
        for (const b of batch) this.send({ type: 'failed', id: b.id, permanent: false, ...failure });
      }
    }
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }
}
