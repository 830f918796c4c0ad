/**
 * Durability checks after a kill -9 + restart, shared by test/crash/kill9.test.ts and bench/crash-loop.ts.
 * The database is opened read-only next to the running (restarted) daemon: WAL lets us read a consistent
 * snapshot without disturbing it, and the restarted writer has already recovered the WAL.
 */
import Database from 'better-sqlite3';
import { PackedSpans } from '../../src/store/sqlite/span-pack.js';
import path from 'node:path';
import type { Lane } from './request-template.js';

export interface RequestRef {
  lane: Lane;
  seq: number;
}

export interface RoundCheck {
  /** Rows written since the previous check. */
  newRows: number;
  ackedSpans: number;
  /** Acknowledged spans not found among the new rows: must be 0. */
  missing: number;
  /** New rows whose (trace_id, span_id) appears more than once among them: must be 0. */
  duplicates: number;
  /** New rows that belong to no request sent this round (corruption or resurrected data): must be 0. */
  unexpected: number;
  integrity: string;
  totalRows: number;
  spansByService: Record<string, number>;
}

export function spansDb(dataDir: string): string {
  return path.join(dataDir, 'spans.db');
}

function keysOf(refs: readonly RequestRef[], into: Set<string>): number {
  let n = 0;
  for (const { lane, seq } of refs) {
    lane.template(seq).keys(seq, (k) => {
      into.add(k);
      n++;
    });
  }
  return n;
}

/**
 * Checks only the rows added since the last call (rowids only grow; nothing is deleted in these runs),
 * so a 20-round crash loop does not re-read millions of rows every round.
 */
export class CrashVerifier {
  private lastRowid = 0;

  constructor(private readonly dbPath: string) {}

  check(acked: readonly RequestRef[], sent: readonly RequestRef[]): RoundCheck {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      const integrityRows = db.pragma('integrity_check') as { integrity_check: string }[];
      const integrity = integrityRows.map((r) => r.integrity_check).join('; ');
      const seen = new Set<string>();
      let newRows = 0;
      let maxRowid = this.lastRowid;
      const rows = db.prepare('SELECT id, trace_id, spans FROM trace_chunks WHERE id > ? ORDER BY id').raw(true);
      for (const row of rows.iterate(this.lastRowid) as Iterable<[number, Buffer, Buffer]>) {
        maxRowid = row[0];
        const traceKey = row[1].toString('latin1');
        for (const span = new PackedSpans(row[2]); span.next(); ) {
          newRows++;
          seen.add(traceKey + span.spanId.toString('latin1'));
        }
      }
      const sentKeys = new Set<string>();
      keysOf(sent, sentKeys);
      let unexpected = 0;
      for (const k of seen) if (!sentKeys.has(k)) unexpected++;
      const ackedKeys = new Set<string>();
      const ackedSpans = keysOf(acked, ackedKeys);
      let missing = 0;
      for (const k of ackedKeys) if (!seen.has(k)) missing++;
      const spansByService: Record<string, number> = {};
      let totalRows = 0;
      const serviceNames = new Map<number, string>();
      for (const r of db.prepare('SELECT id, name FROM services').all() as { id: number; name: string }[]) serviceNames.set(r.id, r.name);
      for (const r of db.prepare('SELECT spans FROM trace_chunks').raw(true).iterate() as Iterable<[Buffer]>) {
        for (const span = new PackedSpans(r[0]); span.next(); ) {
          const name = serviceNames.get(span.serviceId) ?? String(span.serviceId);
          spansByService[name] = (spansByService[name] ?? 0) + 1;
          totalRows++;
        }
      }
      this.lastRowid = maxRowid;
      return { newRows, ackedSpans, missing, duplicates: newRows - seen.size, unexpected, integrity, totalRows, spansByService };
    } finally {
      db.close();
    }
  }
}

/** span count per service from GET /api/latency over [startMs, endMs]. */
export async function latencyCounts(apiPort: number, services: readonly string[], startMs: number, endMs: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const service of services) {
    const url = `http://127.0.0.1:${apiPort}/api/latency?service=${encodeURIComponent(service)}&start=${Math.floor(startMs)}&end=${Math.ceil(endMs)}`;
    const res = await fetch(url);
    const body = (await res.json()) as { count?: number };
    out[service] = res.status === 200 ? (body.count ?? -1) : -res.status;
  }
  return out;
}

/**
 * Polls /api/latency until every service's histogram count equals its stored span count (the restarted
 * writer replays the spans committed after the last histogram flush) or the timeout passes.
 * Returns the last differences (empty when they all match).
 */
export async function awaitLatencyMatches(
  apiPort: number,
  expected: Record<string, number>,
  startMs: number,
  endMs: number,
  timeoutMs = 10_000,
): Promise<Record<string, { histogram: number; stored: number }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await latencyCounts(apiPort, Object.keys(expected), startMs, endMs);
    const diff: Record<string, { histogram: number; stored: number }> = {};
    for (const [service, stored] of Object.entries(expected)) {
      if (got[service] !== stored) diff[service] = { histogram: got[service] ?? -1, stored };
    }
    if (Object.keys(diff).length === 0 || Date.now() > deadline) return diff;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Fetches a few traces through GET /api/traces/{id}; returns the ids whose span count is wrong. */
export async function checkTracesViaApi(apiPort: number, samples: readonly { traceId: string; spans: number }[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const { traceId, spans } of samples) {
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/traces/${traceId}`);
    if (res.status !== 200) {
      wrong.push(`${traceId}: HTTP ${res.status}`);
      continue;
    }
    const body = (await res.json()) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
    const n = body.resourceSpans.reduce((a, rs) => a + rs.scopeSpans.reduce((b, ss) => b + ss.spans.length, 0), 0);
    if (n !== spans) wrong.push(`${traceId}: ${n} spans, expected ${spans}`);
  }
  return wrong;
}

/** Up to `n` traces of acknowledged requests, spread over the list. */
export function sampleTraces(acked: readonly RequestRef[], n: number): { traceId: string; spans: number }[] {
  const out: { traceId: string; spans: number }[] = [];
  if (acked.length === 0) return out;
  const step = Math.max(1, Math.floor(acked.length / n));
  for (let k = 0; k < acked.length && out.length < n; k += step) {
    const { lane, seq } = acked[k] as RequestRef;
    const traces = lane.template(seq).traces(seq);
    out.push(traces[seq % traces.length] as { traceId: string; spans: number });
  }
  return out;
}
