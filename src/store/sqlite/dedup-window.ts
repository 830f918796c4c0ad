/**
 * Remembers the (trace id, span id) pairs of recently stored spans so that an export the client re-sends
 * (its acknowledgement was lost) is not stored, or counted in the latency histograms, twice. OTLP says
 * duplicates are legal and receivers must tolerate them. The window holds the last `capacity` spans,
 * seconds at peak rates, which is when retries come.
 *
 * Why a ring of raw bytes and an open-addressing table of slot numbers instead of a Set of strings or a
 * Map: building two strings per span and keeping 400k of them alive cost the writer ~6 % of its time plus
 * GC, and a Map keyed by 53-bit numbers still allocated a heap number per span and cost ~3 %. Keys are
 * copied into one preallocated buffer; the table (linear probing, backward-shift deletion, load ≤ 0.5)
 * maps a 32-bit hash of the span id to slots, and a hit is confirmed by comparing all 24 bytes, so a
 * hash collision costs a probe, never a dropped or forgotten span.
 */
const KEY_BYTES = 24;

export class DedupWindow {
  private readonly keys: Buffer;
  /** Per ring slot: its key's hash, or -1 when the slot holds no key. */
  private readonly hashes: Int32Array;
  /**
   * Two words per position: the key's hash and its slot + 1 (0 = empty). The hash beside the slot lets a
   * probe reject other keys without touching `keys` or `hashes`: ~1 cache miss per new span.
   */
  private readonly table: Int32Array;
  private readonly mask: number;
  private next = 0;
  /** `seen`'s copy of its two ids, so that both entry points share `seenAt`. */
  private readonly scratch = new Uint8Array(KEY_BYTES);

  constructor(private readonly capacity: number) {
    this.keys = Buffer.alloc(capacity * KEY_BYTES);
    this.hashes = new Int32Array(capacity).fill(-1);
    let size = 2;
    while (size < capacity * 2) size *= 2;
    this.table = new Int32Array(2 * size);
    this.mask = size - 1;
  }

  /**
   * True if the pair was already seen; records it otherwise and returns false. `traceId` is 16 bytes,
   * `spanId` 8. The slot it was recorded in is available as `lastSlot` (for `forget`).
   */
  seen(traceId: Uint8Array, spanId: Uint8Array): boolean {
    this.scratch.set(traceId, 0);
    this.scratch.set(spanId, 16);
    return this.seenAt(this.scratch, 0, 16);
  }

  /** `seen` for ids read in place: the trace id at `buf[traceAt]`, the span id at `buf[spanAt]`. */
  seenAt(buf: Uint8Array, traceAt: number, spanAt: number): boolean {
    if (this.capacity === 0) return false;
    const hash = hashOf(buf, traceAt, spanAt);
    const table = this.table;
    for (let at = hash & this.mask; ; at = (at + 1) & this.mask) {
      const entry = table[2 * at + 1] as number;
      if (entry === 0) break;
      if (table[2 * at] === hash && this.sameKey(entry - 1, buf, traceAt, spanAt)) return true;
    }
    this.record(hash, buf, traceAt, spanAt);
    return false;
  }

  /** The slot of the key `seen` recorded last. */
  get lastSlot(): number {
    return (this.next + this.capacity - 1) % this.capacity;
  }

  /** Forgets the key in `slot` (its spans were not stored after all, or the ring moved past it). */
  forget(slot: number): void {
    if (this.capacity === 0) return;
    const hash = this.hashes[slot] as number;
    if (hash < 0) return;
    this.hashes[slot] = -1;
    const mask = this.mask;
    const table = this.table;
    let hole = hash & mask;
    while (table[2 * hole + 1] !== slot + 1) hole = (hole + 1) & mask;
    // Backward-shift deletion: move later entries of the probe run into the hole when their home
    // position does not lie cyclically in (hole, at], so every remaining key stays reachable.
    for (let at = (hole + 1) & mask; ; at = (at + 1) & mask) {
      const entry = table[2 * at + 1] as number;
      if (entry === 0) break;
      const home = (table[2 * at] as number) & mask;
      const between = hole <= at ? hole < home && home <= at : hole < home || home <= at;
      if (between) continue;
      table[2 * hole] = table[2 * at] as number;
      table[2 * hole + 1] = entry;
      hole = at;
    }
    table[2 * hole + 1] = 0;
  }

  private record(hash: number, buf: Uint8Array, traceAt: number, spanAt: number): void {
    const slot = this.next;
    this.forget(slot);
    const keys = this.keys;
    const at = slot * KEY_BYTES;
    for (let i = 0; i < 16; i++) keys[at + i] = buf[traceAt + i] as number;
    for (let i = 0; i < 8; i++) keys[at + 16 + i] = buf[spanAt + i] as number;
    this.hashes[slot] = hash;
    let probe = hash & this.mask;
    while (this.table[2 * probe + 1] !== 0) probe = (probe + 1) & this.mask;
    this.table[2 * probe] = hash;
    this.table[2 * probe + 1] = slot + 1;
    this.next = (slot + 1) % this.capacity;
  }

  private sameKey(slot: number, buf: Uint8Array, traceAt: number, spanAt: number): boolean {
    const at = slot * KEY_BYTES;
    const keys = this.keys;
    for (let i = 0; i < 16; i++) if (keys[at + i] !== buf[traceAt + i]) return false;
    for (let i = 0; i < 8; i++) if (keys[at + 16 + i] !== buf[spanAt + i]) return false;
    return true;
  }
}

/** 31 bits (non-negative) from all of the span id and the trace id's last byte, well mixed (murmur3's finaliser). */
function hashOf(buf: Uint8Array, traceAt: number, spanAt: number): number {
  const lo = (buf[spanAt] as number) | ((buf[spanAt + 1] as number) << 8) | ((buf[spanAt + 2] as number) << 16) | ((buf[spanAt + 3] as number) << 24);
  const hi =
    (buf[spanAt + 4] as number) |
    ((buf[spanAt + 5] as number) << 8) |
    ((buf[spanAt + 6] as number) << 16) |
    (((buf[spanAt + 7] as number) ^ (buf[traceAt + 15] as number)) << 24);
  return fmix32(lo ^ fmix32(hi)) & 0x7fffffff;
}

function fmix32(value: number): number {
  let h = value ^ (value >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
