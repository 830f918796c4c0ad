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

  accepted(transport: Transport, accepted: number, rejected: number): void {
    this.acceptedSpans[transport] += accepted;
    this.refusedSpans[transport] += rejected;
  }

  failed(transport: Transport, retryable: boolean): void {
    if (retryable) this.failedRequests[transport]++;
    else this.invalidRequests[transport]++;
  }
}
