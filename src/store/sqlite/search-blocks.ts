import type { TraceSearchQuery } from '../ports.js';
import { grown } from './typed-arrays.js';

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

const TWO_32 = 2 ** 32;
const LOW_32 = 0xffffffffn;

/**
 * Groups one commit's entries by (service, start second) and packs each group into a block. Entries are
 * written as bytes when they are added (begin, op, end) and only copied into their block at the end, so
 * the writer's hot path builds no object and no BigInt per entry; u64 values come as two u32 words.
 */
export class SearchBlockBuilder {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  private count = 0;
  private service = new Int32Array(256);
  private second = new Float64Array(256);
  private chunk = new Float64Array(256);
  private offset = new Int32Array(256);
  private errors = new Int32Array(256);
  private maxHi = new Uint32Array(256);
  private maxLo = new Uint32Array(256);
  /** Where the entry being written keeps its op count. */
  private opCountAt = 0;

  /** Forgets every entry (the writer reuses one builder from commit to commit). */
  reset(): this {
    this.count = 0;
    this.used = 0;
    return this;
  }

  /** Starts the entry of `serviceId` in trace chunk `chunkId`; its trace id is `source[traceAt..+16)`. */
  begin(serviceId: number, second: number, chunkId: number, source: Uint8Array, traceAt: number, startLo: number, startHi: number): void {
    const e = this.count++;
    if (e >= this.service.length) this.grow(e + 1);
    this.service[e] = serviceId;
    this.second[e] = second;
    this.chunk[e] = chunkId;
    this.offset[e] = this.used;
    const out = this.reserve(SEARCH_ENTRY_HEADER_BYTES);
    const at = this.used;
    for (let i = 0; i < 16; i++) out[at + i] = source[traceAt + i] as number;
    out.writeUInt32LE(startLo, at + 16);
    out.writeUInt32LE(startHi, at + 20);
    out.writeUInt32LE(chunkId % TWO_32, at + 24);
    out.writeUInt32LE(Math.floor(chunkId / TWO_32), at + 28);
    out.writeUInt32LE(0, at + 44);
    this.opCountAt = at + 44;
    this.used += SEARCH_ENTRY_HEADER_BYTES;
  }

  /** Adds one operation of the entry begun last. */
  op(nameId: number, errors: number, maxLo: number, maxHi: number): void {
    const out = this.reserve(PACKED_OP_BYTES);
    const at = this.used;
    out.writeUInt32LE(nameId, at);
    out.writeUInt32LE(errors, at + 4);
    out.writeUInt32LE(maxLo, at + 8);
    out.writeUInt32LE(maxHi, at + 12);
    this.used += PACKED_OP_BYTES;
    out.writeUInt32LE(out.readUInt32LE(this.opCountAt) + 1, this.opCountAt);
  }

  /** Finishes the entry begun last with its totals. */
  end(errors: number, maxLo: number, maxHi: number): void {
    const e = this.count - 1;
    const at = this.offset[e] as number;
    this.errors[e] = errors;
    this.maxLo[e] = maxLo;
    this.maxHi[e] = maxHi;
    this.bytes.writeUInt32LE(maxLo, at + 32);
    this.bytes.writeUInt32LE(maxHi, at + 36);
    this.bytes.writeUInt32LE(errors, at + 40);
  }

  /** One entry given as an object (migrations, tests). */
  add(serviceId: number, entry: SearchEntry): void {
    const traceId = entry.traceId;
    this.begin(serviceId, startSecond(entry.startNs), entry.chunkId, traceId, 0, Number(entry.startNs & LOW_32), Number(entry.startNs >> 32n));
    for (const op of entry.ops.values()) this.op(op.nameId, op.errors, Number(op.maxDurationNs & LOW_32), Number(op.maxDurationNs >> 32n));
    this.end(entry.errors, Number(entry.maxDurationNs & LOW_32), Number(entry.maxDurationNs >> 32n));
  }

  /** The blocks, each holding its entries in the order they were added. */
  *blocks(): Generator<SearchBlock> {
    const order = Array.from({ length: this.count }, (_, e) => e);
    const { service, second } = this;
    order.sort((a, b) => (service[a] as number) - (service[b] as number) || (second[a] as number) - (second[b] as number) || a - b);
    for (let k = 0; k < order.length; ) {
      let end = k + 1;
      const first = order[k] as number;
      while (end < order.length && service[order[end] as number] === service[first] && second[order[end] as number] === second[first]) end++;
      yield this.pack(order, k, end);
      k = end;
    }
  }

  private pack(order: readonly number[], from: number, to: number): SearchBlock {
    let size = 0;
    for (let k = from; k < to; k++) size += this.entryBytes(order[k] as number);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    let firstChunkId = Infinity;
    let maxHi = 0;
    let maxLo = 0;
    let errors = 0;
    for (let k = from; k < to; k++) {
      const e = order[k] as number;
      const start = this.offset[e] as number;
      const length = this.entryBytes(e);
      this.bytes.copy(out, at, start, start + length);
      at += length;
      firstChunkId = Math.min(firstChunkId, this.chunk[e] as number);
      const hi = this.maxHi[e] as number;
      const lo = this.maxLo[e] as number;
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi;
        maxLo = lo;
      }
      errors += this.errors[e] as number;
    }
    const e = order[from] as number;
    return {
      serviceId: this.service[e] as number,
      second: this.second[e] as number,
      firstChunkId,
      entryCount: to - from,
      maxDurationNs: (BigInt(maxHi) << 32n) | BigInt(maxLo),
      errors,
      entries: out,
    };
  }

  private entryBytes(e: number): number {
    return (e + 1 < this.count ? (this.offset[e + 1] as number) : this.used) - (this.offset[e] as number);
  }

  private reserve(bytes: number): Buffer {
    if (this.used + bytes > this.bytes.length) {
      const next = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + bytes));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    return this.bytes;
  }

  private grow(length: number): void {
    this.service = grown(this.service, length);
    this.second = grown(this.second, length);
    this.chunk = grown(this.chunk, length);
    this.offset = grown(this.offset, length);
    this.errors = grown(this.errors, length);
    this.maxHi = grown(this.maxHi, length);
    this.maxLo = grown(this.maxLo, length);
  }
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
