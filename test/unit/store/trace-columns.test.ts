/**
 * getTraceColumns against getTraceSpans on the same stored traces: the columns carry the same spans in
 * the same order, and the columnar CP-v1 summary equals the BigInt one. Traces are written through the
 * real writer (several commits, so several chunks) with links, async kinds and overflowing children.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { computeCriticalPath } from '../../../src/analysis/critical-path.js';
import { summarizeColumns } from '../../../src/analysis/critical-path-columns.js';
import { summarizeCriticalPath } from '../../../src/analysis/critical-path-summary.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import { spanIdHex } from '../../../src/model/trace-columns.js';
import { openReaderDb, openWriterDb } from '../../../src/store/sqlite/open.js';
import { SqliteSpanReader } from '../../../src/store/sqlite/span-reader.js';
import { SqliteSpanWriter } from '../../../src/store/sqlite/span-writer.js';

const T0_NS = BigInt(Date.UTC(2026, 10, 1, 12)) * 1_000_000n;
const dir = mkdtempSync(path.join(tmpdir(), 'spanlens-columns-'));
const writerDb = openWriterDb(dir);
const writer = new SqliteSpanWriter(writerDb, { dedupWindowSpans: 1000, latency: { maxSeries: 1000, staleSeriesMs: 3_600_000 } });
const readerDb = openReaderDb(dir);
const reader = new SqliteSpanReader(readerDb);
afterAll(() => {
  readerDb.close();
  writerDb.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Spec { spanId: Buffer; parent?: Buffer; service: string; name: string; kind: number; startNs: bigint; endNs: bigint; links: { spanId: Buffer; refType: string }[] }

const requestType = otlpType(TypeNames.exportTracesRequest);
function write(traceId: Buffer, specs: Spec[]): void {
  const request = {
    resourceSpans: specs.map((s) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: s.service } }] },
      scopeSpans: [{
        scope: { name: 'test' },
        spans: [{
          traceId, spanId: s.spanId, ...(s.parent ? { parentSpanId: s.parent } : {}), name: s.name, kind: s.kind,
          startTimeUnixNano: s.startNs.toString(), endTimeUnixNano: s.endNs.toString(),
          links: s.links.map((l) => ({ traceId, spanId: l.spanId, attributes: [{ key: 'opentracing.ref_type', value: { stringValue: l.refType } }] })),
        }],
      }],
    })),
  };
  writer.writeDecoded([decodeTracesRequest(Buffer.from(requestType.encode(requestType.fromObject(request)).finish()))], Number(T0_NS / 1_000_000n));
}

const id8 = (n: number): Buffer => Buffer.from(n.toString(16).padStart(16, '0'), 'hex');

const arbTrace = fc.array(
  fc.record({
    parentPick: fc.integer({ min: -2, max: 30 }),
    start: fc.integer({ min: 0, max: 40 }),
    len: fc.integer({ min: -3, max: 50 }),
    ns: fc.integer({ min: 0, max: 999 }),
    kind: fc.integer({ min: 1, max: 5 }),
    link: fc.constantFrom('', '', 'follows_from', 'child_of'),
    service: fc.integer({ min: 0, max: 3 }),
    batch: fc.integer({ min: 0, max: 2 }),
  }),
  { minLength: 1, maxLength: 40 },
);

let traces = 0;
describe('SqliteSpanReader.getTraceColumns', () => {
  it('holds the spans getTraceSpans returns, and the columnar critical path equals the BigInt one', async () => {
    await fc.assert(
      fc.asyncProperty(arbTrace, fc.integer({ min: 1, max: 20 }), async (items, rows) => {
        const traceId = Buffer.alloc(16);
        traceId.writeUInt32BE(++traces, 12);
        const specs = items.map((it, i): Spec & { batch: number } => {
          // Ids descending with i, so arrival order and id order differ.
          const spanId = id8(0xffff - i);
          const parent = it.parentPick === -1 ? id8(0xabcdef) : it.parentPick >= 0 && i > 0 ? id8(0xffff - (it.parentPick % i)) : undefined;
          const startNs = T0_NS + BigInt(it.start) * 1_000_000n + BigInt(it.ns);
          return {
            spanId, ...(parent ? { parent } : {}), service: `svc-${it.service}`, name: `op-${i % 5}`, kind: it.kind,
            startNs, endNs: startNs + BigInt(it.len) * 1_000_000n,
            links: it.link && parent ? [{ spanId: parent, refType: it.link }] : [], batch: it.batch,
          };
        });
        for (let b = 0; b < 3; b++) {
          const batch = specs.filter((s) => s.batch === b);
          if (batch.length > 0) write(traceId, batch);
        }
        const hex = traceId.toString('hex');
        const cols = (await reader.getTraceColumns(hex))!;
        const spans = (await reader.getTraceSpans(hex, { detail: 'links' }))!;
        expect(cols.count).toBe(spans.length);
        spans.forEach((s, i) => {
          expect(spanIdHex(cols.spanIdHi[i]!, cols.spanIdLo[i]!)).toBe(s.spanId);
          expect(cols.hasParent[i] === 1 ? spanIdHex(cols.parentIdHi[i]!, cols.parentIdLo[i]!) : '').toBe(s.parentSpanId);
          expect([cols.kind[i], cols.services[cols.service[i]!], cols.names[cols.name[i]!]]).toEqual([s.kind, s.service, s.name]);
          expect([cols.baseNs + BigInt(cols.startNs[i]!), cols.baseNs + BigInt(cols.endNs[i]!)]).toEqual([s.startNs, s.endNs]);
          expect(cols.links.get(i) ?? []).toEqual(s.links);
        });
        const options = { spanRows: rows, segments: rows };
        expect(summarizeColumns(cols, options)).toEqual(summarizeCriticalPath(computeCriticalPath(spans), options));
      }),
      { numRuns: 150 },
    );
  });

  it('is null for a trace with no stored span', async () => {
    expect(await reader.getTraceColumns('f'.repeat(32))).toBeNull();
  });
});
