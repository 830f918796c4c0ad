import { RetryableError } from '../pipeline/errors.js';
import type { ExportOutcome, MetricsConsumer, OtlpExportRequest, TracesConsumer } from '../pipeline/consumer.js';

export interface IngestLimits {
  /** Decompressed request bytes queued or being written at once. */
  maxInflightBytes: number;
  /** Export requests queued or being written at once. */
  maxInflightRequests: number;
  /** Retry delay suggested to clients that are refused. */
  retryAfterMs: number;
}

/**
 * Backpressure in front of the store: past either bound, exports are refused with a retryable error
 * (UNAVAILABLE + RetryInfo / 503 + Retry-After) before any decoding work, so a slow disk turns into
 * client retries instead of unbounded memory.
 */
export class IngestLimiter implements TracesConsumer, MetricsConsumer {
  private inflightBytes = 0;
  private inflightRequests = 0;
  private refusedTotal = 0;

  constructor(
    private readonly next: TracesConsumer & Partial<MetricsConsumer>,
    private readonly limits: IngestLimits,
  ) {}

  get saturated(): boolean {
    return (
      this.inflightRequests >= this.limits.maxInflightRequests || this.inflightBytes >= this.limits.maxInflightBytes
    );
  }

  stats(): { inflightBytes: number; inflightRequests: number; refused: number } & IngestLimits {
    return {
      inflightBytes: this.inflightBytes,
      inflightRequests: this.inflightRequests,
      refused: this.refusedTotal,
      ...this.limits,
    };
  }

  /** Metrics share the traces' budget: both end in the same writer queue. */
  consumeMetrics(request: OtlpExportRequest): Promise<ExportOutcome> {
    const next = this.next;
    if (!next.consumeMetrics) return Promise.reject(new Error('no metrics consumer behind the ingest limiter'));
    return this.admit(request, (r) => (next.consumeMetrics as MetricsConsumer['consumeMetrics']).call(next, r));
  }

  consumeTraces(request: OtlpExportRequest): Promise<ExportOutcome> {
    return this.admit(request, (r) => this.next.consumeTraces(r));
  }

  private async admit(
    request: OtlpExportRequest,
    forward: (request: OtlpExportRequest) => Promise<ExportOutcome>,
  ): Promise<ExportOutcome> {
    const size = request.body.byteLength;
    // A single request larger than the byte budget is still admitted when nothing else is in flight,
    // otherwise it could never be accepted (the size limit proper is the receivers' max request size).
    const overBytes = this.inflightBytes > 0 && this.inflightBytes + size > this.limits.maxInflightBytes;
    if (this.inflightRequests >= this.limits.maxInflightRequests || overBytes) {
      this.refusedTotal++;
      throw new RetryableError('spanlens ingest queue is full; retry later', this.limits.retryAfterMs, 'overloaded');
    }
    this.inflightBytes += size;
    this.inflightRequests++;
    try {
      return await forward(request);
    } finally {
      this.inflightBytes -= size;
      this.inflightRequests--;
    }
  }
}
