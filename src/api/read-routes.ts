import type { LatencyReader, SpanReader, StoredTrace, TraceSummary } from '../store/ports.js';
import { parsePercentiles, summarizeLatency } from '../analysis/latency.js';
import { toResourceSpansJson, type StoredSpanGroup } from '../codec/otlp-json-out.js';
import { nearestNames } from './nearest-names.js';
import { parseTimeRange } from './time-range.js';

export interface ApiReply {
  status: number;
  body: unknown;
}

export class BadQueryError extends Error {}

const MS_NS = 1_000_000n;
const MAX_TRACE_LIMIT = 1000;

/** The JSON read API: thin translation between query strings and the store's typed ports. */
export class ReadRoutes {
  constructor(
    private readonly spans: SpanReader,
    private readonly latency: LatencyReader,
    private readonly now: () => number,
  ) {}

  async services(): Promise<ApiReply> {
    return { status: 200, body: { services: await this.spans.listServices() } };
  }

  async traces(q: URLSearchParams): Promise<ApiReply> {
    // Trace search defaults to all stored data: retention bounds it, `limit` bounds the answer.
    const range = parseTimeRange(param(q, 'start', 'end', 'window'), this.now(), this.now());
    const limit = intParam(q, 'limit', 20, 1, MAX_TRACE_LIMIT);
    const minDurationMs = q.get('minDurationMs');
    if (minDurationMs !== null && !(Number(minDurationMs) >= 0)) {
      throw new BadQueryError('minDurationMs must be a number of milliseconds ≥ 0');
    }
    const error = q.get('error');
    if (error !== null && error !== 'true' && error !== 'false') throw new BadQueryError('error must be true or false');
    const service = q.get('service') ?? undefined;
    const operation = q.get('operation') ?? undefined;
    const found = await this.spans.searchTraces({
      ...(service !== undefined ? { service } : {}),
      ...(operation !== undefined ? { operation } : {}),
      ...(minDurationMs !== null ? { minDurationNs: BigInt(Math.round(Number(minDurationMs) * 1e6)) } : {}),
      ...(error === 'true' ? { errorsOnly: true } : {}),
      startNs: BigInt(Math.floor(range.startMs)) * MS_NS,
      endNs: BigInt(Math.ceil(range.endMs)) * MS_NS,
      limit,
    });
    if (found === null) return this.unknownService(service as string);
    return { status: 200, body: { traces: found.map(traceSummaryJson), limit } };
  }

  async trace(traceId: string): Promise<ApiReply> {
    if (!/^[0-9a-fA-F]{32}$/.test(traceId)) {
      throw new BadQueryError('trace id must be 32 hexadecimal digits');
    }
    const trace = await this.spans.getTrace(traceId.toLowerCase());
    if (!trace) return { status: 404, body: { error: `no spans of trace ${traceId} are stored` } };
    return { status: 200, body: { resourceSpans: toResourceSpansJson(groupsOf(trace)) } };
  }

  async latencyStats(q: URLSearchParams): Promise<ApiReply> {
    const service = q.get('service');
    if (!service) throw new BadQueryError('service is required, e.g. /api/latency?service=checkout');
    const range = parseTimeRange(param(q, 'start', 'end', 'window'), this.now(), 3_600_000);
    let percentiles: number[];
    try {
      percentiles = parsePercentiles(q.get('percentiles') ?? '50,95,99');
    } catch (err) {
      throw new BadQueryError((err as Error).message);
    }
    const operation = q.get('operation') ?? undefined;
    const distribution = await this.latency.latency({
      service,
      ...(operation !== undefined ? { operation } : {}),
      startNs: BigInt(Math.floor(range.startMs)) * MS_NS,
      endNs: BigInt(Math.ceil(range.endMs)) * MS_NS,
    });
    if (distribution === null && !(await this.isService(service))) return this.unknownService(service);
    const summary = summarizeLatency(distribution, percentiles);
    return {
      status: 200,
      body: {
        service,
        ...(operation !== undefined ? { operation } : {}),
        start: new Date(range.startMs).toISOString(),
        end: new Date(range.endMs).toISOString(),
        ...summary,
        precision: 'hdr-3-significant-digits',
      },
    };
  }

  private async isService(name: string): Promise<boolean> {
    return (await this.spans.listServices()).some((s) => s.name === name);
  }

  private async unknownService(service: string): Promise<ApiReply> {
    const names = (await this.spans.listServices()).map((s) => s.name);
    return {
      status: 404,
      body: { error: `unknown service "${service}"`, didYouMean: nearestNames(service, names) },
    };
  }
}

function param(q: URLSearchParams, ...names: ('start' | 'end' | 'window')[]): Record<string, string | null> {
  return Object.fromEntries(names.map((n) => [n, q.get(n)]));
}

function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = q.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BadQueryError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function traceSummaryJson(t: TraceSummary): Record<string, unknown> {
  return {
    traceId: t.traceId,
    rootService: t.rootService,
    rootOperation: t.rootOperation,
    hasRoot: t.hasRoot,
    startTimeUnixNano: t.startNs.toString(),
    start: new Date(Number(t.startNs / MS_NS)).toISOString(),
    durationMs: Number(t.durationNs) / 1e6,
    spanCount: t.spanCount,
    errorCount: t.errorCount,
  };
}

/** Consecutive spans that share a resource and scope form one group (the renderer merges equal ones). */
function groupsOf(trace: StoredTrace): StoredSpanGroup[] {
  const groups: (StoredSpanGroup & { key: string })[] = [];
  let current: (StoredSpanGroup & { key: string }) | undefined;
  for (const span of trace.spans) {
    const key = `${span.resourceId}:${span.scopeId}`;
    if (!current || current.key !== key) {
      const resource = trace.resources.get(span.resourceId);
      const scope = trace.scopes.get(span.scopeId);
      current = {
        key,
        resource: resource?.raw ?? null,
        resourceSchemaUrl: resource?.schemaUrl ?? '',
        scope: scope?.raw ?? null,
        scopeSchemaUrl: scope?.schemaUrl ?? '',
        spans: [],
      };
      groups.push(current);
    }
    current.spans.push(span.raw);
  }
  return groups.map(({ key: _key, ...group }) => group);
}
