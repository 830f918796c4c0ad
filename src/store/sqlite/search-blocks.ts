import { writeU64 } from './span-pack.js';
import type { TraceSearchQuery } from '../ports.js';

/**
 * Trace search entries, packed into one `trace_search_blocks` row per (service, start second, commit).
 *
 * Why blocks: a search entry per (service, trace chunk) is ~0.35 per span, and SQLite charges several µs
 * per inserted row whatever its size (measured with bare inserts of these rows: ~7 µs in the old WITHOUT
 * ROWID table, ~2.5 µs even appended to a table without any key). That was ~20 % of the writer thread. A commit now writes a few rows per service instead of
 * hundreds, and readers unpack entries in JS, which is cheaper than SQLite visiting as many rows.
 *
 * Entry layout (little-endian): trace_id[16], start_ns u64, chunk_id u64, max_duration_ns u64,
 * error_count u32, op_count u32, then op_count operations of (name_id u32, error_count u32,
 * max_duration_ns u64): the service's operations in that chunk, so that one entry answers a search for
 * any of them.
 */
const SEARCH_ENTRY_HEADER_BYTES = 48;
export const PACKED_OP_BYTES = 16;
const NS_PER_SECOND = 1_000_000_000n;

export interface OperationStats {
  nameId: number;
  errors: number;
  maxDurationNs: bigint;
}

/** One (service, chunk) entry as the writer collects it. */
export interface SearchEntry {
  traceId: Uint8Array;
  startNs: bigint;
  chunkId: number;
  maxDurationNs: bigint;
  errors: number;
  ops: Map<number, OperationStats>;
}

/** A block row ready to insert. */
interface SearchBlock {
  serviceId: number;
  second: number;
  firstChunkId: number;
  entryCount: number;
  maxDurationNs: bigint;
  errors: number;
  entries: Buffer;
}

export function startSecond(startNs: bigint): number {
  return Number(startNs / NS_PER_SECOND);
}

/** Groups one commit's entries by (service, start second) and packs each group into a block. */
export class SearchBlockBuilder {
  private readonly groups = new Map<number, Map<number, SearchEntry[]>>();

  add(serviceId: number, entry: SearchEntry): void {
    let bySecond = this.groups.get(serviceId);
    if (!bySecond) this.groups.set(serviceId, (bySecond = new Map()));
    const second = startSecond(entry.startNs);
    const group = bySecond.get(second);
    if (group) group.push(entry);
    else bySecond.set(second, [entry]);
  }

  *blocks(): Generator<SearchBlock> {
    for (const [serviceId, bySecond] of this.groups) {
      for (const [second, entries] of bySecond) yield packBlock(serviceId, second, entries);
    }
  }
}

function packBlock(serviceId: number, second: number, entries: readonly SearchEntry[]): SearchBlock {
  let bytes = 0;
  for (const e of entries) bytes += SEARCH_ENTRY_HEADER_BYTES + e.ops.size * PACKED_OP_BYTES;
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  let firstChunkId = Infinity;
  let maxDurationNs = 0n;
  let errors = 0;
  for (const e of entries) {
    out.set(e.traceId, at);
    writeU64(out, e.startNs, at + 16);
    out.writeUInt32LE(e.chunkId % 2 ** 32, at + 24);
    out.writeUInt32LE(Math.floor(e.chunkId / 2 ** 32), at + 28);
    writeU64(out, e.maxDurationNs, at + 32);
    out.writeUInt32LE(e.errors, at + 40);
    out.writeUInt32LE(e.ops.size, at + 44);
    at += SEARCH_ENTRY_HEADER_BYTES;
    for (const op of e.ops.values()) {
      out.writeUInt32LE(op.nameId, at);
      out.writeUInt32LE(op.errors, at + 4);
      writeU64(out, op.maxDurationNs, at + 8);
      at += PACKED_OP_BYTES;
    }
    if (e.chunkId < firstChunkId) firstChunkId = e.chunkId;
    if (e.maxDurationNs > maxDurationNs) maxDurationNs = e.maxDurationNs;
    errors += e.errors;
  }
  return { serviceId, second, firstChunkId, entryCount: entries.length, maxDurationNs, errors, entries: out };
}

interface OperationFilter {
  /** null: any operation. */
  nameId: number | null;
  minDurationNs: bigint;
  /** null: no upper bound. */
  maxDurationNs: bigint | null;
  errorsOnly: boolean;
}

/** A search over entries: the window of start times plus the per-operation predicates. */
export interface EntryFilter extends OperationFilter {
  startNs: bigint;
  endNs: bigint;
}

/** The entry filter of a trace search, and the parameters that select (and skip) blocks for it. */
export function searchOf(query: TraceSearchQuery, nameId: bigint | null): {
  filter: EntryFilter;
  blocks: { startSecond: number; endSecond: number; minDuration: bigint; minErrors: number };
} {
  const filter: EntryFilter = {
    startNs: query.startNs,
    endNs: query.endNs,
    nameId: nameId === null ? null : Number(nameId),
    minDurationNs: query.minDurationNs ?? 0n,
    maxDurationNs: query.maxDurationNs ?? null,
    errorsOnly: query.errorsOnly ?? false,
  };
  const blocks = {
    startSecond: startSecond(query.startNs),
    endSecond: startSecond(query.endNs),
    minDuration: filter.minDurationNs,
    minErrors: filter.errorsOnly ? 1 : 0,
  };
  return { filter, blocks };
}

/** Walks the entries of one block; `at` is the entry's offset in `entries`. */
export class SearchEntries {
  private at = 0;
  private next = 0;

  constructor(readonly entries: Buffer) {}

  /** Advances to the next entry; false at the end. */
  advance(): boolean {
    this.at = this.next;
    if (this.at + SEARCH_ENTRY_HEADER_BYTES > this.entries.byteLength) return false;
    this.next = this.at + SEARCH_ENTRY_HEADER_BYTES + this.entries.readUInt32LE(this.at + 44) * PACKED_OP_BYTES;
    return true;
  }

  get traceId(): Buffer {
    return this.entries.subarray(this.at, this.at + 16);
  }
  /** The trace's sampling hash (trace-sampler.ts): bytes 9-12 of the trace id. */
  get traceHash(): number {
    return this.entries.readUInt32BE(this.at + 9);
  }
  get startNs(): bigint {
    return this.entries.readBigUInt64LE(this.at + 16);
  }
  get chunkId(): number {
    return this.entries.readUInt32LE(this.at + 24) + this.entries.readUInt32LE(this.at + 28) * 2 ** 32;
  }

  /** The entry is in the window and some operation of it satisfies every predicate at once. */
  matches(filter: EntryFilter): boolean {
    const e = this.entries;
    const start = e.readBigUInt64LE(this.at + 16);
    if (start < filter.startNs || start > filter.endNs) return false;
    if (e.readBigUInt64LE(this.at + 32) < filter.minDurationNs) return false;
    if (filter.errorsOnly && e.readUInt32LE(this.at + 40) === 0) return false;
    return someOperationMatches(e, filter, this.at + SEARCH_ENTRY_HEADER_BYTES, this.next);
  }
}

/** True if some operation packed in `ops[from, to)` satisfies every predicate of the filter at once. */
function someOperationMatches(ops: Buffer, filter: OperationFilter, from: number, to: number): boolean {
  for (let at = from; at + PACKED_OP_BYTES <= to; at += PACKED_OP_BYTES) {
    if (filter.nameId !== null && ops.readUInt32LE(at) !== filter.nameId) continue;
    if (filter.errorsOnly && ops.readUInt32LE(at + 4) === 0) continue;
    const maxDuration = ops.readBigUInt64LE(at + 8);
    if (maxDuration < filter.minDurationNs) continue;
    if (filter.maxDurationNs !== null && maxDuration > filter.maxDurationNs) continue;
    return true;
  }
  return false;
}
