import type { OtlpEncoding } from '../model/otlp.js';

/** An export request as it came off the wire, after decompression. */
export interface OtlpExportRequest {
  encoding: OtlpEncoding;
  /** Decompressed request body. The consumer takes ownership: the caller must not reuse or modify it. */
  body: Uint8Array;
}

export interface ExportOutcome {
  accepted: number;
  /** Items rejected one by one (partial success); their batch-mates were accepted. */
  rejected: number;
  /** Why items were rejected; empty when none were. */
  message: string;
}

/**
 * Resolves only once the accepted items are durable (committed), so that a receiver may acknowledge.
 * Rejects with PermanentError for input that can never be accepted, RetryableError otherwise.
 */
export interface TracesConsumer {
  consumeTraces(request: OtlpExportRequest): Promise<ExportOutcome>;
}

/**
 * Same contract as TracesConsumer for ExportMetricsServiceRequest bodies: resolves once accepted data
 * points are durable; `rejected` counts data points refused one by one (OTLP partial_success).
 * The Prometheus scrape receiver feeds the same consumer with OTLP/JSON it builds from the exposition.
 */
export interface MetricsConsumer {
  consumeMetrics(request: OtlpExportRequest): Promise<ExportOutcome>;
}
