export type Transport = 'grpc' | 'http';

/**
 * Receiver outcome counters, named after the Collector's receiver metrics: accepted (stored), refused
 * (rejected by validation or the data's fault), failed (we could not take it: overload, store errors).
 */
export class IngestCounters {
  readonly acceptedSpans: Record<Transport, number> = { grpc: 0, http: 0 };
  readonly refusedSpans: Record<Transport, number> = { grpc: 0, http: 0 };
  readonly failedRequests: Record<Transport, number> = { grpc: 0, http: 0 };
  readonly invalidRequests: Record<Transport, number> = { grpc: 0, http: 0 };

  readonly acceptedMetricPoints: Record<Transport, number> = { grpc: 0, http: 0 };
  readonly refusedMetricPoints: Record<Transport, number> = { grpc: 0, http: 0 };
  readonly failedMetricRequests: Record<Transport, number> = { grpc: 0, http: 0 };
  readonly invalidMetricRequests: Record<Transport, number> = { grpc: 0, http: 0 };

  /** Metric data points, counted apart from spans (the Collector's receiver_*_metric_points). */
  acceptedMetrics(transport: Transport, accepted: number, rejected: number): void {
    this.acceptedMetricPoints[transport] += accepted;
    this.refusedMetricPoints[transport] += rejected;
  }

  failedMetrics(transport: Transport, retryable: boolean): void {
    if (retryable) this.failedMetricRequests[transport]++;
    else this.invalidMetricRequests[transport]++;
  }

  accepted(transport: Transport, accepted: number, rejected: number): void {
    this.acceptedSpans[transport] += accepted;
    this.refusedSpans[transport] += rejected;
  }

  failed(transport: Transport, retryable: boolean): void {
    if (retryable) this.failedRequests[transport]++;
    else this.invalidRequests[transport]++;
  }

  /** Exports refused for missing, unknown or under-privileged tokens (401/403, UNAUTHENTICATED/PERMISSION_DENIED). */
  readonly unauthorizedRequests: Record<Transport, number> = { grpc: 0, http: 0 };

  unauthorized(transport: Transport): void {
    this.unauthorizedRequests[transport]++;
  }
}
