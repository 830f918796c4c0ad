import { describe, expect, it } from 'vitest';
import { analyzeTraceErrors, groupErrors, isEffectiveError } from '../../../src/analysis/errors.js';
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import { mkSpan, mkTrace, traceIdOf } from './fixture.js';

const { SERVER, CLIENT, INTERNAL } = SpanKind;
const { UNSET, OK, ERROR } = StatusCode;

describe('ERR-v1 isEffectiveError', () => {
  const s = (kind: number, status: number, attrs = {}): boolean => isEffectiveError(mkSpan({ id: 'a', start: 0, end: 1, kind, status, attrs }));

  it('status ERROR is an error, status OK wins over any protocol code', () => {
    expect(s(INTERNAL, ERROR)).toBe(true);
    expect(s(SERVER, OK, { 'http.response.status_code': 500 })).toBe(false);
    expect(s(CLIENT, OK, { 'rpc.grpc.status_code': 14 })).toBe(false);
    expect(s(INTERNAL, UNSET)).toBe(false);
  });

  it('HTTP: server ≥ 500, client ≥ 400, with the old attribute name too', () => {
    expect(s(SERVER, UNSET, { 'http.response.status_code': 500 })).toBe(true);
    expect(s(SERVER, UNSET, { 'http.response.status_code': 404 })).toBe(false);
    expect(s(CLIENT, UNSET, { 'http.response.status_code': 404 })).toBe(true);
    expect(s(CLIENT, UNSET, { 'http.status_code': 503 })).toBe(true);
    expect(s(SERVER, UNSET, { 'http.status_code': '502' })).toBe(true);
    expect(s(CLIENT, UNSET, { 'http.status_code': 302 })).toBe(false);
    expect(s(INTERNAL, UNSET, { 'http.response.status_code': 500 })).toBe(false);
  });

  it('gRPC: server only for UNKNOWN/DEADLINE/UNIMPLEMENTED/INTERNAL/UNAVAILABLE/DATA_LOSS, client any non-OK', () => {
    for (const code of [2, 4, 12, 13, 14, 15]) expect(s(SERVER, UNSET, { 'rpc.grpc.status_code': code })).toBe(true);
    for (const code of [0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 16]) expect(s(SERVER, UNSET, { 'rpc.grpc.status_code': code })).toBe(false);
    expect(s(CLIENT, UNSET, { 'rpc.grpc.status_code': 5 })).toBe(true);
    expect(s(CLIENT, UNSET, { 'rpc.grpc.status_code': 0 })).toBe(false);
  });

  it('an exception event alone is not an error', () => {
    const span = mkSpan({ id: 'a', start: 0, end: 1, events: [{ name: 'exception', timeNs: 0n, attributes: { 'exception.type': 'E' } }] });
    expect(isEffectiveError(span)).toBe(false);
  });
});

describe('ERR-v1 analyzeTraceErrors', () => {
  it('finds the deepest error without error descendants and ranks chains reaching the root first', () => {
    // root (ERROR, server 500) |0------------------------100|
    //   call (CLIENT 500)        |10--------------60|
    //     pay (SERVER ERROR)        |15----------55|
    //       db (CLIENT ERROR)         |20--40|          ← chain db→pay→call→root, reaches root
    //   side (INTERNAL ok)                        |65--------95|
    //     cache (ERROR)                             |70-80|   ← error under a healthy span: chain of 1
    const spans = mkTrace([
      { id: 'root', start: 0, end: 100, kind: SERVER, service: 'front', attrs: { 'http.response.status_code': 500, 'http.route': '/checkout', 'http.request.method': 'GET' } },
      { id: 'call', parent: 'root', start: 10, end: 60, kind: CLIENT, service: 'front', attrs: { 'http.response.status_code': 500 } },
      { id: 'pay', parent: 'call', start: 15, end: 55, kind: SERVER, service: 'payment', status: ERROR },
      {
        id: 'db',
        parent: 'pay',
        start: 20,
        end: 40,
        kind: CLIENT,
        service: 'payment',
        status: ERROR,
        message: 'deadlock detected',
        attrs: { 'db.system': 'postgresql', 'db.statement': 'INSERT INTO payments', 'error.type': 'DeadlockError' },
        events: [
          {
            name: 'exception',
            timeNs: 39n,
            attributes: { 'exception.type': 'PgError', 'exception.message': 'deadlock', 'exception.stacktrace': 'PgError: deadlock\n    at q (db.js:1)' },
          },
        ],
      },
      { id: 'side', parent: 'root', start: 65, end: 95, service: 'front' },
      { id: 'cache', parent: 'side', start: 70, end: 80, service: 'cache', status: ERROR },
    ]);
    const a = analyzeTraceErrors(spans);
    expect(a.errorSpanCount).toBe(5);
    expect(a.rootCauses.map((c) => [c.spanId, c.chainLength, c.reachesRoot])).toEqual([
      ['db', 4, true],
      ['cache', 1, false],
    ]);
    const db = a.rootCauses[0]!;
    expect(db.chain.map((c) => c.spanId)).toEqual(['db', 'pay', 'call', 'root']);
    expect(db.onCriticalPath).toBe(true);
    expect(db.criticalNs).toBe(20n);
    expect(db.evidence).toMatchObject({
      kind: 'client',
      statusCode: 'error',
      statusMessage: 'deadlock detected',
      errorType: 'DeadlockError',
      exception: { type: 'PgError', message: 'deadlock', stacktraceFirstLine: 'PgError: deadlock' },
      db: { system: 'postgresql', query: 'INSERT INTO payments' },
      http: null,
      timeout: false,
    });
    // cache is on the critical path too (side is the last finisher, cache inside it).
    expect(a.rootCauses[1]!.onCriticalPath).toBe(true);
  });

  it('an error below a healthy intermediate disqualifies its error ancestors', () => {
    // a (ERROR) |0--------100|
    //   b (ok)    |10----90|
    //     c (ERROR) |20-80|
    const a = analyzeTraceErrors(
      mkTrace([
        { id: 'a', start: 0, end: 100, status: ERROR },
        { id: 'b', parent: 'a', start: 10, end: 90 },
        { id: 'c', parent: 'b', start: 20, end: 80, status: ERROR },
      ]),
    );
    expect(a.rootCauses.map((c) => c.spanId)).toEqual(['c']);
    expect(a.rootCauses[0]!).toMatchObject({ chainLength: 1, reachesRoot: false });
  });

  it('ranks equal chains by start then spanId, and flags off-path candidates', () => {
    // root (ERROR) |0------------------100|
    //   y (ERROR)     |10---30|
    //   x (ERROR)     |10---30|
    //   w (ERROR)   |5-----------------99|   overlaps: x and y are not on the critical path
    const a = analyzeTraceErrors(
      mkTrace([
        { id: 'root', start: 0, end: 100, status: ERROR },
        { id: 'y', parent: 'root', start: 10, end: 30, status: ERROR },
        { id: 'x', parent: 'root', start: 10, end: 30, status: ERROR },
        { id: 'w', parent: 'root', start: 5, end: 99, status: ERROR },
      ]),
    );
    expect(a.rootCauses.map((c) => [c.spanId, c.onCriticalPath])).toEqual([
      ['w', true],
      ['x', false],
      ['y', false],
    ]);
  });

  it('lists work still running when a parent timed out ("cancelled work")', () => {
    // api (SERVER, DEADLINE_EXCEEDED) |0------50|
    //   slow (CLIENT ok)                |10---------80|   still running at 50
    //   fast (CLIENT ok)                |10-30|           finished before
    const a = analyzeTraceErrors(
      mkTrace([
        { id: 'api', start: 0, end: 50, kind: SERVER, attrs: { 'rpc.grpc.status_code': 4, 'rpc.system': 'grpc' } },
        { id: 'slow', parent: 'api', start: 10, end: 80, kind: CLIENT, attrs: { 'rpc.grpc.status_code': 0 } },
        { id: 'fast', parent: 'api', start: 10, end: 30, kind: CLIENT },
      ]),
    );
    expect(a.rootCauses).toHaveLength(1);
    expect(a.rootCauses[0]!.evidence).toMatchObject({ timeout: true, grpc: { statusCode: 4 } });
    expect(a.cancelledWork.map((w) => [w.spanId, w.parentSpanId, w.overrunNs])).toEqual([['slow', 'api', 30n]]);
    expect(a.rootCauses[0]!.cancelledWork).toHaveLength(1);
  });

  it('returns at most `limit` candidates, best first, with the total count', () => {
    const rows = [{ id: 'r', start: 0, end: 100 }, ...[1, 2, 3, 4, 5].map((i) => ({ id: `e${i}`, parent: 'r', start: i, end: i + 1, status: ERROR }))];
    const a = analyzeTraceErrors(mkTrace(rows), { limit: 2 });
    expect(a.rootCauseCount).toBe(5);
    expect(a.rootCauses.map((c) => c.spanId)).toEqual(['e1', 'e2']);
  });

  it('a healthy trace has no candidates', () => {
    const a = analyzeTraceErrors(mkTrace([{ id: 'r', start: 0, end: 1, kind: SERVER, attrs: { 'http.response.status_code': 404 } }]));
    expect(a).toMatchObject({ errorSpanCount: 0, rootCauses: [], cancelledWork: [] });
  });
});

describe('groupErrors', () => {
  it('groups by (service, operation, exception type | error.type | status message) with bounded exemplars', () => {
    const traces = [1, 2, 3, 4, 5].map((t) =>
      mkTrace(
        [
          { id: 'r', start: 0, end: 100, service: 'front', name: 'GET /checkout', kind: SERVER, attrs: { 'http.response.status_code': t <= 4 ? 500 : 200 } },
          {
            id: 'd',
            parent: 'r',
            start: 10,
            end: 50,
            service: 'payment',
            name: 'INSERT payments',
            status: t <= 4 ? ERROR : UNSET,
            attrs: t <= 2 ? { 'error.type': 'Timeout' } : {},
            message: t <= 4 ? 'boom' : '',
          },
        ],
        traceIdOf(t),
      ),
    );
    const g = groupErrors(traces, { maxExemplars: 2 });
    expect(g).toMatchObject({ traceCount: 5, errorTraceCount: 4, errorSpanCount: 8, truncated: false });
    expect(g.groups.map((x) => [x.service, x.operation, x.errorKey, x.keySource, x.count, x.rootCauseCount])).toEqual([
      ['front', 'GET /checkout', 'HTTP 500', 'http.response.status_code', 4, 0],
      ['payment', 'INSERT payments', 'Timeout', 'error.type', 2, 2],
      ['payment', 'INSERT payments', 'boom', 'status.message', 2, 2],
    ]);
    expect(g.groups[0]!.exemplarTraceIds).toEqual([traceIdOf(1), traceIdOf(2)]);
    expect(g.groups[0]!.errorRate).toBe(0.8);
    expect(g.groups[0]!.originating).toMatchObject({ service: 'payment', name: 'INSERT payments', count: 4 });
    expect(groupErrors(traces, { limit: 1 })).toMatchObject({ truncated: true, groups: [{ errorKey: 'HTTP 500' }] });
  });
});
