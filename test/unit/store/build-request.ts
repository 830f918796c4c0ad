import { randomBytes } from 'node:crypto';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import type { DecodedTraces } from '../../../src/model/decoded.js';

export interface SpanSpec {
  service: string;
  name: string;
  traceId?: Buffer;
  spanId?: Buffer;
  parentSpanId?: Buffer;
  startMs: number;
  durationUs: number;
  error?: boolean;
  kind?: number;
}

/** Encodes spans into an ExportTraceServiceRequest (one ResourceSpans per service) and decodes it as the writer would. */
export function decodedRequest(specs: SpanSpec[]): DecodedTraces {
  const byService = new Map<string, SpanSpec[]>();
  for (const s of specs) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  const request = {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'test' },
          spans: spans.map((s) => {
            const startNs = BigInt(s.startMs) * 1_000_000n;
            return {
              traceId: s.traceId ?? randomBytes(16),
              spanId: s.spanId ?? randomBytes(8),
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: s.kind ?? 2,
              startTimeUnixNano: startNs.toString(),
              endTimeUnixNano: (startNs + BigInt(s.durationUs) * 1000n).toString(),
              status: s.error ? { code: 2 } : {},
            };
          }),
        },
      ],
    })),
  };
  const type = otlpType(TypeNames.exportTracesRequest);
  const bytes = Buffer.from(type.encode(type.fromObject(request)).finish());
  return decodeTracesRequest(bytes);
}
