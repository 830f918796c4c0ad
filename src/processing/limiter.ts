import { RetryableError } from '../pipeline/errors.js';
import type { ExportOutcome, MetricsConsumer, OtlpExportRequest, TracesConsumer } from '../pipeline/consumer.js';
import type { MemoryPressure } from './memory-guard.js';

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
  private refusedMemory = 0;

  constructor(
    private readonly next: TracesConsumer & Partial<MetricsConsumer>,
    private readonly limits: IngestLimits,
    /** RSS watermark (limits.memory); without it only the in-flight bounds apply. */
    private readonly memory?: MemoryPressure,
  ) {}

  /** Why readiness fails because of memory, or '' when under the soft limit. */
  memoryProblem(): string {
    return this.memory?.overSoftLimit ? this.memory.describe() : '';
  }

  /**
   * The refusal an export would get right now, checked by receivers before they read a body, so that an
   * overloaded daemon does not buffer what it is about to refuse. Undefined when it would be admitted.
   */
  refusal(): RetryableError | undefined {
    if (this.inflightRequests >= this.limits.maxInflightRequests) return this.queueFull();
    if (this.memory?.overSoftLimit && this.inflightRequests > 0) return this.memoryFull();
    return undefined;
  }

  get saturated(): boolean {
    return (
      this.inflightRequests >= this.limits.maxInflightRequests || this.inflightBytes >= this.limits.maxInflightBytes
    );
  }

  stats(): { inflightBytes: number; inflightRequests: number; refused: number; refusedMemory: number } & IngestLimits {
    return {
      inflightBytes: this.inflightBytes,
      inflightRequests: this.inflightRequests,
      refused: this.refusedTotal,
      refusedMemory: this.refusedMemory,
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
    if (this.inflightRequests >= this.limits.maxInflightRequests || overBytes) throw this.queueFull();
    // Above the memory soft limit one export is still admitted when none is in flight: RSS that the
    // allocator keeps after a burst must not stop ingest for good, and one request is a bounded cost.
    if (this.memory?.overSoftLimit && this.inflightRequests > 0) throw this.memoryFull();
    this.inflightBytes += size;
    this.inflightRequests++;
    try {
      return await forward(request);
    } finally {
      this.inflightBytes -= size;
      this.inflightRequests--;
    }
  }

  private queueFull(): RetryableError {
    this.refusedTotal++;
    return new RetryableError('spanlens ingest queue is full; retry later', this.limits.retryAfterMs, 'overloaded');
  }

  private memoryFull(): RetryableError {
    this.refusedTotal++;
    this.refusedMemory++;
    return new RetryableError(`spanlens is ${(this.memory as MemoryPressure).describe()}; retry later`, this.limits.retryAfterMs, 'overloaded');
  }
}
