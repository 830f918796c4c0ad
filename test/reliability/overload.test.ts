/**
 * Overload acceptance (CI size; bench/overload.ts runs it longer): a daemon with limits.memory 448MiB
 * and deliberately small ingest bounds (real config knobs) is offered several times what it stores,
 * by raw HTTP/gRPC clients that re-send refusals after 5 ms and by the OTel SDK's BatchSpanProcessor +
 * OTLP/proto exporter. RSS (from /proc) must stay under the limit, every answer must be retryable
 * (200/429/503, OK/UNAVAILABLE with RetryInfo), and every span a client believes delivered must be stored,
 * exactly once.
 */
import { describe, expect, it } from 'vitest';
import { runOverload } from '../../bench/lib/overload.js';

describe('overload with a small memory limit', () => {
  it('stays under the memory limit, answers only retryably and stores everything acknowledged', async () => {
    const r = await runOverload({
      // The daemon runs under tsx here (~185 MB idle). At 320MiB it stayed under the limit when run alone
      // (91-95 %) but peaked at 390 MB once in a full parallel suite: the guard samples RSS every 100 ms
      // and cannot make V8 give garbage back, so it needs headroom above its 80 % soft limit.
      memoryLimit: '448MiB',
      loadMs: 12_000,
      httpLanes: 10,
      grpcLanes: 4,
      spansPerRequest: 2000,
      retryMs: 5,
      sdkSpansPerMs: 5,
      extraConfig: 'ingest:\n  maxInflightSize: 2MiB\n  maxInflightRequests: 3\nstorage:\n  maxBatchSpans: 2000\n',
    });
    console.info(`overload: ${JSON.stringify(r)}`);
    expect(r.rssSamples).toBeGreaterThan(50);
    expect(r.peakRssBytes).toBeLessThan(r.memoryLimitBytes);
    expect(r.nonRetryable).toEqual([]);
    expect(r.grpcRefusalsWithoutRetryInfo).toBe(0);
    // Overloaded: at least three times what was stored was offered (refused attempts are re-offered).
    expect(r.ackedRawSpans).toBeGreaterThan(0);
    expect(r.offeredSpans).toBeGreaterThanOrEqual(3 * r.ackedRawSpans);
    expect(r.sdk.deliveredSpans).toBeGreaterThan(0);
    expect(r.missingRaw).toBe(0);
    expect(r.duplicateRaw).toBe(0);
    expect(r.missingSdk).toBe(0);
  }, 90_000);
});
