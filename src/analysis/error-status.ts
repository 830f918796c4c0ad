/**
 * ERR-v1 "effective error" (ANALYSIS.md §7.2) and the evidence attached to an error span.
 *
 * Status OK is the instrumentation's explicit verdict and always wins; ERROR is an error; UNSET is
 * inferred from the protocol: semconv says an HTTP server leaves 4xx unset (the client's fault) while a
 * client marks 4xx and 5xx, and gRPC servers only flag codes that indicate a server-side failure.
 * Exception events alone are not errors: handled exceptions are common.
 */
import { isEffectiveErrorStatus, SPAN_KIND_NAMES, StatusCode } from '../model/span.js';
import type { TraceSpan } from '../model/trace.js';
import type { TraceColumns } from '../model/trace-columns.js';
import { Attr, attrNumber, attrString } from './semconv.js';

const GRPC_DEADLINE_EXCEEDED = 4;

export function isEffectiveError(span: TraceSpan): boolean {
  return isEffectiveErrorOf(span);
}

/**
 * isEffectiveError of span `i` of `cols`, as it judges the TraceSpan the same read gives: attributes
 * only where the columns carry details (the `errors` detail), status code and kind for every span.
 */
export function isEffectiveErrorAt(cols: TraceColumns, i: number): boolean {
  const statusCode = cols.statusCode[i]!;
  if (statusCode !== StatusCode.UNSET) return statusCode === StatusCode.ERROR;
  const details = cols.errorDetails?.get(i);
  const kind = cols.kind[i]!;
  return details ? isEffectiveErrorOf({ statusCode, kind, attributes: details.attributes }) : isEffectiveErrorStatus(statusCode, kind, undefined, undefined);
}

function isEffectiveErrorOf(span: Pick<TraceSpan, 'statusCode' | 'kind' | 'attributes'>): boolean {
  if (span.statusCode !== StatusCode.UNSET) return span.statusCode === StatusCode.ERROR;
  return isEffectiveErrorStatus(span.statusCode, span.kind, attrNumber(span, Attr.httpStatus), attrNumber(span, Attr.grpcStatus));
}

export interface ExceptionEvidence {
  type: string | null;
  message: string | null;
  /** First line of exception.stacktrace (the full trace is for get_trace). */
  stacktraceFirstLine: string | null;
}

/** The first `exception` event of the span, or null. */
export function exceptionOf(span: Pick<TraceSpan, 'events'>): ExceptionEvidence | null {
  for (const e of span.events) {
    if (e.name !== 'exception') continue;
    const str = (k: string): string | null => {
      const v = e.attributes[k];
      return v === undefined || v === null || Array.isArray(v) ? null : String(v);
    };
    const stack = str('exception.stacktrace');
    return { type: str('exception.type'), message: str('exception.message'), stacktraceFirstLine: stack?.split('\n', 1)[0]?.trim() ?? null };
  }
  return null;
}

const TIMEOUT_TEXT = /time[d\s_-]?out|deadline/i;

/**
 * A failure that means "gave up waiting": gRPC DEADLINE_EXCEEDED, HTTP 408/504, or a timeout/deadline
 * named by the status message, error.type or the exception. Work still running under such a span was
 * cancelled or orphaned, which the error analysis reports.
 */
export function isTimeout(span: TraceSpan): boolean {
  if (attrNumber(span, Attr.grpcStatus) === GRPC_DEADLINE_EXCEEDED) return true;
  const http = attrNumber(span, Attr.httpStatus);
  if (http === 408 || http === 504) return true;
  const ex = exceptionOf(span);
  const texts = [span.statusMessage, attrString(span, Attr.errorType), ex?.type, ex?.message];
  return texts.some((t) => t !== undefined && t !== null && TIMEOUT_TEXT.test(t));
}

export interface ErrorEvidence {
  kind: string;
  statusCode: 'unset' | 'ok' | 'error';
  statusMessage: string | null;
  errorType: string | null;
  exception: ExceptionEvidence | null;
  http: { method: string | null; statusCode: number | null; route: string | null; url: string | null } | null;
  grpc: { statusCode: number | null; service: string | null; method: string | null } | null;
  db: { system: string | null; operation: string | null; namespace: string | null; query: string | null; statusCode: string | null } | null;
  timeout: boolean;
}

/** What an agent needs to read an error without fetching the span: status, exception, protocol facts. */
export function errorEvidence(span: TraceSpan): ErrorEvidence {
  const s = (keys: readonly string[]): string | null => attrString(span, keys) ?? null;
  const n = (keys: readonly string[]): number | null => attrNumber(span, keys) ?? null;
  const httpStatus = n(Attr.httpStatus);
  const method = s(Attr.httpMethod);
  const grpcStatus = n(Attr.grpcStatus);
  const rpcSystem = s(Attr.rpcSystem);
  const dbSystem = s(Attr.dbSystem);
  return {
    kind: SPAN_KIND_NAMES[span.kind] ?? 'unspecified',
    statusCode: span.statusCode === StatusCode.ERROR ? 'error' : span.statusCode === StatusCode.OK ? 'ok' : 'unset',
    statusMessage: span.statusMessage === '' ? null : span.statusMessage,
    errorType: s(Attr.errorType),
    exception: exceptionOf(span),
    http: httpStatus !== null || method !== null ? { method, statusCode: httpStatus, route: s(Attr.httpRoute), url: s(Attr.urlFull) ?? s(Attr.urlPath) } : null,
    grpc: grpcStatus !== null || rpcSystem === 'grpc' ? { statusCode: grpcStatus, service: s(Attr.rpcService), method: s(Attr.rpcMethod) } : null,
    db:
      dbSystem !== null
        ? { system: dbSystem, operation: s(Attr.dbOperation), namespace: s(Attr.dbNamespace), query: s(Attr.dbQuery) ?? s(Attr.dbQuerySummary), statusCode: s(Attr.dbStatus) }
        : null,
    timeout: isTimeout(span),
  };
}

/**
 * The grouping key of an error: exception type, else error.type, else the status message, else the
 * protocol status; `source` says which one was used.
 */
export function errorKeyOf(span: TraceSpan): { key: string; source: string } {
  const ex = exceptionOf(span);
  if (ex?.type) return { key: ex.type, source: 'exception.type' };
  const errorType = attrString(span, Attr.errorType);
  if (errorType !== undefined) return { key: errorType, source: 'error.type' };
  if (span.statusMessage !== '') return { key: span.statusMessage, source: 'status.message' };
  const http = attrNumber(span, Attr.httpStatus);
  if (http !== undefined) return { key: `HTTP ${http}`, source: 'http.response.status_code' };
  const grpc = attrNumber(span, Attr.grpcStatus);
  if (grpc !== undefined) return { key: `gRPC ${grpc}`, source: 'rpc.grpc.status_code' };
  return { key: '', source: 'none' };
}
