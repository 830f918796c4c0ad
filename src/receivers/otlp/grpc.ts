import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ExportOutcome, MetricsConsumer, OtlpExportRequest, TracesConsumer } from '../../pipeline/consumer.js';
import { encodeExportResponse, encodeRetryStatusDetails } from '../../codec/responses.js';
import type { IngestCounters } from '../../telemetry/ingest-counters.js';
import { formatEndpoint, type Endpoint } from '../../net/endpoint.js';
import { authWireError, toWireError } from './status.js';
import type { Authenticator } from '../../net/auth.js';
import type { TlsMaterial } from '../../net/tls.js';

export interface OtlpGrpcSettings {
  endpoint: Endpoint;
  /** Largest decompressed request; grpc-js answers RESOURCE_EXHAUSTED (no RetryInfo) above it. */
  maxRequestBytes: number;
  /** TLS (and mTLS with a client CA) instead of plaintext. */
  tls?: TlsMaterial;
  /** Checks the `authorization` metadata of every export; absent: no checks. */
  authenticator?: Authenticator;
}

const identity = (b: Buffer): Buffer => b;

/**
 * The service is registered with pass-through (de)serializers: grpc-js answers INTERNAL when its own
 * deserializer throws, while OTLP wants INVALID_ARGUMENT for bad payloads, so we decode ourselves.
 * Only TraceService is registered; other signals get UNIMPLEMENTED, as a Collector without that pipeline does.
 */
export const traceServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** MetricsService/Export, registered like TraceService (raw buffers, our own decoder). */
export const metricsServiceDefinition: grpc.ServiceDefinition = {
  Export: { ...(traceServiceDefinition['Export'] as grpc.MethodDefinition<Buffer, Buffer>), path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export' },
};

export class OtlpGrpcReceiver {
  private server: grpc.Server | undefined;
  private bound: Endpoint | undefined;

  constructor(
    private readonly settings: OtlpGrpcSettings,
    private readonly traces: TracesConsumer,
    private readonly counters: IngestCounters,
    private readonly logger: Logger,
    /** When absent, MetricsService is not registered and clients get UNIMPLEMENTED. */
    private readonly metrics?: MetricsConsumer,
  ) {}

  get address(): Endpoint | undefined {
    return this.bound;
  }

  async start(): Promise<Endpoint> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.settings.maxRequestBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    server.addService(traceServiceDefinition, { Export: this.exportTraces });
    if (this.metrics) server.addService(metricsServiceDefinition, { Export: this.exportMetrics });
    const target = formatEndpoint(this.settings.endpoint);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, serverCredentials(this.settings.tls), (err, actualPort) => {
        if (err) reject(new Error(`cannot listen for OTLP/gRPC on ${target}: ${err.message}`));
        else resolve(actualPort);
      });
    });
    this.server = server;
    this.bound = { host: this.settings.endpoint.host, port };
    this.logger.info({ tls: this.settings.tls !== undefined, auth: this.settings.authenticator?.enforced ?? false, endpoint: formatEndpoint(this.bound) }, 'OTLP/gRPC receiver listening');
    return this.bound;
  }

  /** Stops accepting calls and waits for in-flight exports, up to `deadlineMs`, then cancels the rest. */
  async shutdown(deadlineMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, deadlineMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.logger.info('OTLP/gRPC receiver stopped');
  }

  private readonly exportTraces = (
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
    callback: grpc.sendUnaryData<Buffer>,
  ): void => {
    this.answer(call, callback, (r) => this.traces.consumeTraces(r), 'rejectedSpans');
  };

  private readonly exportMetrics = (
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
    callback: grpc.sendUnaryData<Buffer>,
  ): void => {
    const metrics = this.metrics as MetricsConsumer;
    this.answer(call, callback, (r) => metrics.consumeMetrics(r), 'rejectedDataPoints');
  };

  private answer(
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
    callback: grpc.sendUnaryData<Buffer>,
    consume: (request: OtlpExportRequest) => Promise<ExportOutcome>,
    field: 'rejectedSpans' | 'rejectedDataPoints',
  ): void {
    const isMetrics = field === 'rejectedDataPoints';
    const authorization = call.metadata.get('authorization')[0];
    const access = this.settings.authenticator?.authorize(typeof authorization === 'string' ? authorization : undefined, 'ingest');
    if (access !== undefined && !access.ok) {
      const wire = authWireError(access.refusal, access.message);
      this.counters.unauthorized('grpc');
      callback({ code: wire.grpcCode, details: wire.message });
      return;
    }
    consume({ encoding: 'protobuf', body: call.request }).then(
      (outcome) => {
        if (isMetrics) this.counters.acceptedMetrics('grpc', outcome.accepted, outcome.rejected);
        else this.counters.accepted('grpc', outcome.accepted, outcome.rejected);
        callback(null, Buffer.from(encodeExportResponse('protobuf', outcome.rejected, outcome.message, field)));
      },
      (err: unknown) => {
        const wire = toWireError(err);
        if (isMetrics) this.counters.failedMetrics('grpc', wire.retryAfterMs !== undefined);
        else this.counters.failed('grpc', wire.retryAfterMs !== undefined);
        const metadata = new grpc.Metadata();
        if (wire.retryAfterMs !== undefined) {
          metadata.set(
            'grpc-status-details-bin',
            Buffer.from(encodeRetryStatusDetails(wire.grpcCode, wire.message, wire.retryAfterMs)),
          );
        }
        callback({ code: wire.grpcCode, details: wire.message, metadata });
      },
    );
  }
}

function serverCredentials(tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}
