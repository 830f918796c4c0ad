/**
 * Random traces for the columnar analyses' equivalence tests (columnar result = BigInt reference): small
 * property-based ones that hit every degenerate shape, ERR-v1 facts to decorate them with, and large
 * seeded ones (1k and 10k spans) that look like a real trace with damage.
 */
import fc from 'fast-check';
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import type { TraceEvent, TraceLink, TraceSpan } from '../../../src/model/trace.js';
import { prng } from '../../helpers/prng.js';
import { followsFrom, mkTrace, traceIdOf, type Row } from './fixture.js';

export const hex = (n: number): string => n.toString(16).padStart(16, '0');
export const EPOCH_NS = 1_763_000_000_000_000_000n;

/** Random traces with hex ids: duplicates, zero/missing/self parents, cycles, ties, skew, async children. */
export const arbTrace = fc
  .record({
    base: fc.constantFrom(0n, EPOCH_NS, EPOCH_NS + 123_456_789n),
    scale: fc.constantFrom(1, 1000, 1_000_000, 333),
    items: fc.array(
      fc.record({
        idPick: fc.integer({ min: 0, max: 60 }),
        parentPick: fc.integer({ min: -4, max: 60 }),
        start: fc.integer({ min: 0, max: 60 }),
        len: fc.integer({ min: -5, max: 80 }),
        kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
        link: fc.constantFrom('none', 'none', 'follows_from', 'child_of', 'other_trace', 'other_span'),
        // Copy the previous span's times: equal starts, ends and roots exercise every tie-break.
        copyTimes: fc.boolean(),
        service: fc.integer({ min: 0, max: 4 }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  })
  .map(({ base, scale, items }) =>
    mkTrace(
      items.map((it, i): Row => {
        const times = it.copyTimes && i > 0 ? items[i - 1]! : it;
        // Mostly fresh ids; now and then a duplicate of an earlier one (the first received must win).
        const id = it.idPick === 0 && i > 0 ? hex(1 + ((i * 7) % i)) : hex(1 + i);
        let parent: string | undefined;
        if (it.parentPick === -1) parent = hex(0xdead);
        else if (it.parentPick === -2) parent = id;
        else if (it.parentPick === -3) parent = '0000000000000000';
        else if (it.parentPick >= 0 && i > 0) parent = hex(1 + (it.parentPick % (i + 2)));
        const start = base + BigInt(times.start * scale);
        const row: Row = { id, start, end: start + BigInt(times.len * scale), kind: it.kind, service: `svc${it.service}`, name: `op${i % 7}` };
        if (parent !== undefined) row.parent = parent;
        if (parent !== undefined && it.link !== 'none') row.links = [link(it.link, parent)];
        return row;
      }),
    ),
  );

/** A FOLLOWS_FROM link to the parent, or one of the links that must not make the child non-blocking. */
function link(kind: string, parent: string): TraceLink {
  const ff = followsFrom(parent.toUpperCase());
  if (kind === 'child_of') return { ...ff, attributes: { 'opentracing.ref_type': 'child_of' } };
  if (kind === 'other_trace') return { ...ff, traceId: traceIdOf(99) };
  if (kind === 'other_span') return { ...ff, spanId: hex(0xbeef) };
  return ff;
}

/** ERR-v1 inputs of one span: status, protocol codes (numbers and numeric strings), message, exception events. */
export interface ErrorFacts {
  status: number;
  http: number | string | undefined;
  grpc: number | undefined;
  message: string;
  exception: 'none' | 'typed' | 'untyped' | 'two' | 'other-event';
}

export const arbErrorFacts: fc.Arbitrary<ErrorFacts> = fc.record({
  status: fc.constantFrom(StatusCode.UNSET, StatusCode.UNSET, StatusCode.OK, StatusCode.ERROR),
  http: fc.constantFrom<number | string | undefined>(undefined, undefined, 200, 404, 500, 503, '502', 'n/a'),
  grpc: fc.constantFrom<number | undefined>(undefined, undefined, 0, 4, 5, 14),
  message: fc.constantFrom('', '', 'boom', `timeout ${'x'.repeat(250)}`),
  exception: fc.constantFrom<ErrorFacts['exception']>('none', 'none', 'typed', 'untyped', 'two', 'other-event'),
});

/** The span with `facts` as its status, attributes and events. */
export function withErrorFacts(span: TraceSpan, facts: ErrorFacts): TraceSpan {
  const attributes: TraceSpan['attributes'] = { 'http.route': '/x' };
  if (facts.http !== undefined) attributes['http.response.status_code'] = facts.http;
  if (facts.grpc !== undefined) attributes['rpc.grpc.status_code'] = facts.grpc;
  const event = (name: string, attrs: TraceEvent['attributes']): TraceEvent => ({ name, timeNs: span.startNs, attributes: attrs });
  const events: TraceEvent[] = {
    none: [],
    typed: [event('exception', { 'exception.type': 'IOError', 'exception.message': 'disk' })],
    untyped: [event('exception', { 'exception.message': 'no type' })],
    two: [event('retry', {}), event('exception', { 'exception.type': 'Timeout' }), event('exception', { 'exception.type': 'Second' })],
    'other-event': [event('log', { 'exception.type': 'NotAnException' })],
  }[facts.exception] ?? [];
  return { ...span, statusCode: facts.status, statusMessage: facts.message, attributes, events };
}

/** arbTrace with random ERR-v1 facts on every span. */
export const arbErrorTrace = fc
  .tuple(arbTrace, fc.array(arbErrorFacts, { minLength: 60, maxLength: 60 }))
  .map(([spans, facts]) => spans.map((s, i) => withErrorFacts(s, facts[i]!)));

/**
 * A large trace from `seed`: a deep and wide tree over 12 services, in shuffled arrival order, with the
 * damage real traces carry at low rates: extra roots, missing and self parents, duplicate ids, children
 * outside their parent (skew), zero and negative durations, equal timestamps (a 1 ms grid), async
 * children (PRODUCER→CONSUMER, FOLLOWS_FROM links) and errors of every ERR-v1 kind.
 */
export function bigTrace(seed: number, n: number, base = EPOCH_NS): TraceSpan[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const randomId = (): string => Math.floor(rnd() * 2 ** 32).toString(16).padStart(8, '0') + Math.floor(rnd() * 2 ** 32).toString(16).padStart(8, '0');
  const MS = 1_000_000n;
  const rows: Row[] = [{ id: randomId(), start: base, end: base + BigInt(n) * MS, kind: SpanKind.SERVER, service: 'svc-0', name: 'GET /root' }];
  const facts: ErrorFacts[] = [{ status: StatusCode.UNSET, http: 200, grpc: undefined, message: '', exception: 'none' }];
  for (let i = 1; i < n; i++) {
    // Mostly a recent span as parent (deep chains), sometimes any earlier one (wide fan-out).
    const p = rnd() < 0.7 ? Math.max(0, i - 1 - Math.floor(rnd() * 5)) : Math.floor(rnd() * i);
    const parent = rows[p]!;
    const ps = BigInt(parent.start);
    const pd = Number((BigInt(parent.end) - ps) / MS);
    const r = rnd();
    const startMs = r < 0.03 ? -1 - Math.floor(rnd() * 3) : r < 0.05 ? pd + 1 : Math.floor(rnd() * (pd + 1));
    const start = ps + BigInt(startMs) * MS;
    const d = rnd();
    const durMs = d < 0.05 ? 0 : d < 0.06 ? -2 : Math.floor(rnd() * Math.max(1, pd - Math.max(0, startMs) + (rnd() < 0.1 ? 3 : 0)));
    const row: Row = {
      id: rnd() < 0.002 ? rows[Math.floor(rnd() * i)]!.id : randomId(),
      start, end: start + BigInt(durMs) * MS,
      kind: pick([SpanKind.INTERNAL, SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]),
      service: `svc-${Math.floor(rnd() * 12)}`, name: `op ${Math.floor(rnd() * 40)}`,
    };
    const damage = rnd();
    if (damage < 0.002) row.parent = randomId(); // missing parent: an orphan root
    else if (damage < 0.003) row.parent = row.id; // self parent
    else if (damage >= 0.006) row.parent = parent.id; // else: no parent, another true root
    if (row.parent === parent.id && rnd() < 0.02) row.links = [followsFrom(parent.id)];
    rows.push(row);
    const e = rnd();
    facts.push({
      status: e < 0.03 ? StatusCode.ERROR : e < 0.05 ? StatusCode.OK : StatusCode.UNSET,
      http: rnd() < 0.3 ? pick([200, 200, 404, 500, 503]) : undefined,
      grpc: rnd() < 0.1 ? pick([0, 4, 14]) : undefined,
      message: rnd() < 0.05 ? pick(['boom', 'deadline exceeded']) : '',
      exception: rnd() < 0.05 ? pick(['typed', 'untyped', 'two'] as const) : 'none',
    });
  }
  const spans = mkTrace(rows).map((s, i) => withErrorFacts(s, facts[i]!));
  // Arrival order is not creation order; the root need not come first.
  for (let i = spans.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [spans[i], spans[j]] = [spans[j]!, spans[i]!];
  }
  return spans;
}
