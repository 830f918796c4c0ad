import type Database from 'better-sqlite3';
import { MIGRATION_SQL } from './sql.js';
import { PACKED_OP_BYTES, SearchBlockBuilder, startSecond, type OperationStats, type SearchEntry } from './search-blocks.js';

interface LegacySearchRow {
  service_id: bigint;
  start_ns: bigint;
  chunk_id: bigint;
  trace_id: Buffer;
  max_duration_ns: bigint;
  error_count: bigint;
  ops: Buffer;
}

/** Entries per converted block: old stores hold whole seconds of one service's chunks. */
const ENTRIES_PER_BLOCK = 1024;
const PAGE_ROWS = 10_000;

/**
 * Migration 7: rewrites the old one-row-per-(service, chunk) search rows as blocks. Rows come in key
 * order, so a block closes when its service or second changes or it is full.
 */
export function convertSearchRowsToBlocks(db: Database.Database): void {
  const insert = db.prepare(MIGRATION_SQL.insertSearchBlock);
  let builder = new SearchBlockBuilder();
  let entries = 0;
  let key = '';
  const flush = (): void => {
    for (const b of builder.blocks()) insert.run(b.serviceId, b.second, b.firstChunkId, b.entryCount, b.maxDurationNs, b.errors, b.entries);
    builder = new SearchBlockBuilder();
    entries = 0;
  };
  // Pages by key: better-sqlite3 cannot insert while a statement of the same connection iterates.
  const page = db.prepare(MIGRATION_SQL.legacySearchRows).safeIntegers(true);
  for (let after: [bigint, bigint, bigint] = [-1n, -1n, -1n]; ; ) {
    const rows = page.all(...after, PAGE_ROWS) as LegacySearchRow[];
    if (rows.length === 0) break;
    for (const row of rows) convertRow(row);
    const last = rows[rows.length - 1] as LegacySearchRow;
    after = [last.service_id, last.start_ns, last.chunk_id];
  }
  flush();

  function convertRow(row: LegacySearchRow): void {
    const rowKey = `${row.service_id}:${startSecond(row.start_ns)}`;
    if (rowKey !== key || entries >= ENTRIES_PER_BLOCK) flush();
    key = rowKey;
    const entry: SearchEntry = {
      traceId: row.trace_id,
      startNs: row.start_ns,
      chunkId: Number(row.chunk_id),
      maxDurationNs: row.max_duration_ns,
      errors: Number(row.error_count),
      ops: unpackOperations(row.ops),
    };
    builder.add(Number(row.service_id), entry);
    entries++;
  }
}

function unpackOperations(ops: Buffer): Map<number, OperationStats> {
  const out = new Map<number, OperationStats>();
  for (let at = 0; at + PACKED_OP_BYTES <= ops.byteLength; at += PACKED_OP_BYTES) {
    const nameId = ops.readUInt32LE(at);
    out.set(nameId, { nameId, errors: ops.readUInt32LE(at + 4), maxDurationNs: ops.readBigUInt64LE(at + 8) });
  }
  return out;
}
