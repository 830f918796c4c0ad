import { otlpType, TypeNames } from '../../src/codec/protos.js';
import { decodeTracesRequest } from '../../src/codec/traces-decode.js';
import { openWriterDb } from '../../src/store/sqlite/open.js';
import { SqliteSpanWriter } from '../../src/store/sqlite/span-writer.js';
import { prng } from './prng.js';

/**
 * Fills a data directory with many spans fast, for the byte-cap test and bench/query: through the store's
 * own writer (decoder, packing, search rows, HDR histograms), without the network. A few dozen request
 * templates are encoded once with protobufjs; every batch reuses one, with its ids and timestamps
 * patched in place (the writer is synchronous, so the buffer can be patched again after writeBatch).
 *
 * Each trace has 10 spans over 4 services: SERVER → CLIENT hops (HTTP routes, status codes), a database
 * CLIENT span at the end, and an INTERNAL span per hop. 2 % of traces fail with an HTTP 503 from the
 * deepest server (status UNSET, an ERR-v1 effective error), 1 % with status ERROR and an exception.
 * Trace starts are spread evenly over [nowMs - windowMs, nowMs).
 */
export interface BulkStoreOptions {
  dataDir: string;
  spans: number;
  nowMs: number;
  windowMs: number;
  services?: number;
  operationsPerService?: number;
  /** Called after each batch with the spans written so far. */
  progress?: (spans: number) => void;
}

const SPANS_PER_TRACE = 10;
const TRACES_PER_REQUEST = 100;
const TEMPLATES = 32;
const MS = 1_000_000;

interface SpanSlot {
  spanIdAt: number;
  parentIdAt: number; // -1: root
  parentIndex: number;
  startAt: number;
  endAt: number;
  relStartMs: number;
  relEndMs: number;
}
interface Template {
  buf: Buffer;
  /** Per trace: offsets of its trace id copies (one per span) and its spans. */
  traces: { traceIdAt: number[]; spans: SpanSlot[] }[];
}


interface SpanPlan { service: string; name: string; kind: number; parent: number; rel: [number, number]; attrs: Record<string, string | number>; error?: boolean }

/** The 10 spans of trace `t` (relative ms); services and operations vary with t. */
function planTrace(t: number, services: number, ops: number, rnd: () => number): SpanPlan[] {
  const svc = (h: number): string => `bulk-svc-${String((t * 7 + h * 13) % services).padStart(3, '0')}`;
  const op = (h: number): string => `/api/op-${(t + h * 3) % ops}`;
  const fails = rnd();
  const plan: SpanPlan[] = [];
  let parent = -1;
  let at = 0;
  let end = 40 + Math.floor(rnd() * 160);
  for (let h = 0; h < 3; h++) {
    const server = plan.length;
    const status = h === 2 && fails < 0.02 ? 503 : 200;
    plan.push({ service: svc(h), name: `GET ${op(h)}`, kind: 2, parent, rel: [at, end], attrs: { 'http.request.method': 'GET', 'http.route': op(h), 'http.response.status_code': status } });
    plan.push({ service: svc(h), name: `handle ${op(h)}`, kind: 1, parent: server, rel: [at + 1, at + 2], attrs: {} });
    if (h < 2) {
      plan.push({ service: svc(h), name: 'GET', kind: 3, parent: server, rel: [at + 2, end - 1], attrs: { 'http.request.method': 'GET', 'server.address': svc(h + 1), 'http.response.status_code': fails < 0.02 ? 503 : 200 } });
      parent = plan.length - 1;
      at += 3;
      end -= 2;
    } else {
      plan.push({ service: svc(h), name: 'SELECT items', kind: 3, parent: server, rel: [at + 2, end - 1], attrs: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM items WHERE id = $1' }, error: fails >= 0.02 && fails < 0.03 });
    }
  }
  plan.push({ service: svc(0), name: 'render', kind: 1, parent: 0, rel: [plan[0]!.rel[1] - 2, plan[0]!.rel[1] - 1], attrs: {} });
  while (plan.length < SPANS_PER_TRACE) plan.push({ service: svc(0), name: 'audit', kind: 1, parent: 0, rel: [1, 2], attrs: {} });
  return plan;
}

function placeholder(rnd: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

function buildTemplate(k: number, services: number, ops: number): Template {
  const rnd = prng(1000 + k);
  const byService = new Map<string, object[]>();
  const plans: { traceId: Buffer; spanIds: Buffer[]; starts: bigint[]; ends: bigint[]; plan: SpanPlan[] }[] = [];
  for (let i = 0; i < TRACES_PER_REQUEST; i++) {
    const plan = planTrace(k * TRACES_PER_REQUEST + i, services, ops, rnd);
    const traceId = placeholder(rnd, 16);
    const spanIds = plan.map(() => placeholder(rnd, 8));
    // Unique placeholder times, found again in the encoded bytes below.
    const starts = plan.map(() => BigInt(Math.floor(rnd() * 2 ** 52)) + 2n ** 60n);
    const ends = plan.map(() => BigInt(Math.floor(rnd() * 2 ** 52)) + 2n ** 60n);
    plans.push({ traceId, spanIds, starts, ends, plan });
    plan.forEach((p, j) => {
      const spans = byService.get(p.service) ?? [];
      spans.push({
        traceId, spanId: spanIds[j], ...(p.parent >= 0 ? { parentSpanId: spanIds[p.parent] } : {}), name: p.name, kind: p.kind,
        startTimeUnixNano: starts[j]!.toString(), endTimeUnixNano: ends[j]!.toString(),
        attributes: Object.entries(p.attrs).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } })),
        ...(p.error ? { status: { code: 2, message: 'deadlock detected' }, events: [{ name: 'exception', timeUnixNano: starts[j]!.toString(), attributes: [{ key: 'exception.type', value: { stringValue: 'DeadlockError' } }] }] } : {}),
      });
      byService.set(p.service, spans);
    });
  }
  const type = otlpType(TypeNames.exportTracesRequest);
  const buf = Buffer.from(type.encode(type.fromObject({
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'service.version', value: { stringValue: '2.1.0' } }] },
      scopeSpans: [{ scope: { name: 'bulk', version: '1' }, spans }],
    })),
  })).finish());
  const find = (bytes: Buffer, from: number): number => {
    const at = buf.indexOf(bytes, from);
    if (at < 0) throw new Error('bulk-store: placeholder not found in the template');
    return at;
  };
  // Every span's fields lie inside that span's bytes: locate the span by its id, then search from there.
  const decoded = decodeTracesRequest(buf).resources.flatMap((r) => r.scopes.flatMap((s) => s.spans));
  const rawAt = new Map(decoded.map((s) => [Buffer.from(s.spanId).toString('hex'), s.raw.byteOffset - buf.byteOffset]));
  const le = (v: bigint): Buffer => {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(v);
    return b;
  };
  const traces = plans.map((p) => {
    const spans: SpanSlot[] = p.plan.map((s, j) => {
      const from = rawAt.get(p.spanIds[j]!.toString('hex'))!;
      return {
        spanIdAt: find(p.spanIds[j]!, from),
        parentIdAt: s.parent >= 0 ? find(p.spanIds[s.parent]!, from) : -1,
        parentIndex: s.parent,
        startAt: find(le(p.starts[j]!), from),
        endAt: find(le(p.ends[j]!), from),
        relStartMs: s.rel[0],
        relEndMs: s.rel[1],
      };
    });
    return { traceIdAt: p.plan.map((_, j) => find(p.traceId, rawAt.get(p.spanIds[j]!.toString('hex'))!)), spans };
  });
  return { buf, traces };
}

/** Writes `spans` spans (rounded up to whole requests) into dataDir and closes the store. */
export function fillBulkStore(o: BulkStoreOptions): { spans: number; traces: number; ms: number } {
  const started = performance.now();
  const services = o.services ?? 40;
  const ops = o.operationsPerService ?? 12;
  const templates = Array.from({ length: TEMPLATES }, (_, k) => buildTemplate(k, services, ops));
  const db = openWriterDb(o.dataDir);
  const writer = new SqliteSpanWriter(db, { latency: { maxSeries: 50_000, staleSeriesMs: 3_600_000 }, dedupWindowSpans: 1000 });
  const totalTraces = Math.ceil(o.spans / SPANS_PER_TRACE / TRACES_PER_REQUEST) * TRACES_PER_REQUEST;
  const rnd = prng(4242);
  const windowStartNs = (o.nowMs - o.windowMs) * MS;
  let trace = 0;
  let spans = 0;
  const spanId = Buffer.allocUnsafe(8);
  try {
    for (let req = 0; trace < totalTraces; req++) {
      const tpl = templates[req % TEMPLATES]!;
      for (const t of tpl.traces) {
        // Random trace id (its bytes 9-12 are the sampling hash); span ids derived from it.
        const r1 = (rnd() * 2 ** 32) >>> 0;
        const r2 = (rnd() * 2 ** 32) >>> 0;
        const r3 = (rnd() * 2 ** 32) >>> 0;
        const startNs = BigInt(Math.floor(windowStartNs + ((trace + rnd()) / totalTraces) * o.windowMs * MS));
        const scale = 0.5 + rnd() * 1.5;
        for (const at of t.traceIdAt) {
          tpl.buf.writeUInt32BE(0x5b0c0000 | (req & 0xffff), at);
          tpl.buf.writeUInt32BE(r1, at + 4);
          tpl.buf.writeUInt32BE(r2, at + 8);
          tpl.buf.writeUInt32BE(r3, at + 12);
        }
        t.spans.forEach((s, j) => {
          spanId.writeUInt32BE((r3 ^ 0x9e3779b9) >>> 0, 0);
          spanId.writeUInt32BE((r1 ^ j) >>> 0, 4);
          spanId.copy(tpl.buf, s.spanIdAt);
          if (s.parentIdAt >= 0) {
            tpl.buf.writeUInt32BE((r3 ^ 0x9e3779b9) >>> 0, s.parentIdAt);
            tpl.buf.writeUInt32BE((r1 ^ s.parentIndex) >>> 0, s.parentIdAt + 4);
          }
          tpl.buf.writeBigUInt64LE(startNs + BigInt(Math.round(s.relStartMs * scale * MS)), s.startAt);
          tpl.buf.writeBigUInt64LE(startNs + BigInt(Math.round(s.relEndMs * scale * MS)), s.endAt);
        });
        trace++;
      }
      const decoded = decodeTracesRequest(tpl.buf);
      writer.writeDecoded([decoded], o.nowMs);
      spans += decoded.spanCount;
      // Histogram deltas wait in memory (24 bytes a span); each flush re-encodes every touched minute, so flush rarely.
      if (req % 1000 === 999) writer.latency.flush();
      o.progress?.(spans);
    }
    writer.latency.flush();
  } finally {
    db.close();
  }
  return { spans, traces: trace, ms: Math.round(performance.now() - started) };
}
