/**
 * Remembers the (trace id, span id) pairs of recently stored spans so that an export the client re-sends
 * (its acknowledgement was lost) is not stored, or counted in the latency histograms, twice. OTLP says
 * duplicates are legal and receivers must tolerate them. The window holds the last `capacity` spans,
 * seconds at peak rates, which is when retries come.
 *
 * Why a ring of raw bytes and a numeric index instead of a Set of strings: building two strings per span
 * and keeping 400k of them alive cost the writer ~6 % of its time plus GC. Keys are copied into one
 * preallocated buffer and indexed by a 53-bit number taken from the (random) span id; a hit is confirmed
 * by comparing all 24 bytes, so a hash collision can only make the window forget, never drop a span.
 */
const KEY_BYTES = 24;

export class DedupWindow {
  private readonly keys: Buffer;
  private readonly hashes: Float64Array;
  private readonly slotByHash = new Map<number, number>();
  private next = 0;

  constructor(private readonly capacity: number) {
    this.keys = Buffer.alloc(capacity * KEY_BYTES);
    this.hashes = new Float64Array(capacity).fill(-1);
  }

  /**
   * True if the pair was already seen; records it otherwise and returns false. `traceId` is 16 bytes,
   * `spanId` 8. The slot it was recorded in is available as `lastSlot` (for `forget`).
   */
  seen(traceId: Uint8Array, spanId: Uint8Array): boolean {
    if (this.capacity === 0) return false;
    const hash = hashOf(spanId, traceId);
    const slot = this.slotByHash.get(hash);
    if (slot !== undefined && this.sameKey(slot, traceId, spanId)) return true;
    this.record(hash, traceId, spanId);
    return false;
  }

  /** The slot of the key `seen` recorded last. */
  get lastSlot(): number {
    return (this.next + this.capacity - 1) % this.capacity;
  }

  /** Forgets the key in `slot` (its spans were not stored after all). */
  forget(slot: number): void {
    if (this.capacity === 0) return;
    const hash = this.hashes[slot] as number;
    if (hash >= 0 && this.slotByHash.get(hash) === slot) this.slotByHash.delete(hash);
    this.hashes[slot] = -1;
  }

  private record(hash: number, traceId: Uint8Array, spanId: Uint8Array): void {
    const slot = this.next;
    this.forget(slot);
    this.keys.set(traceId, slot * KEY_BYTES);
    this.keys.set(spanId, slot * KEY_BYTES + 16);
    this.hashes[slot] = hash;
    this.slotByHash.set(hash, slot);
    this.next = (slot + 1) % this.capacity;
  }

  private sameKey(slot: number, traceId: Uint8Array, spanId: Uint8Array): boolean {
    const at = slot * KEY_BYTES;
    for (let i = 0; i < 16; i++) if (this.keys[at + i] !== traceId[i]) return false;
    for (let i = 0; i < 8; i++) if (this.keys[at + 16 + i] !== spanId[i]) return false;
    return true;
  }
}

/** 53 bits: 32 from the span id's first word, 21 from its second word mixed with the trace id's last byte. */
function hashOf(spanId: Uint8Array, traceId: Uint8Array): number {
  const lo = ((spanId[0] as number) | ((spanId[1] as number) << 8) | ((spanId[2] as number) << 16) | ((spanId[3] as number) << 24)) >>> 0;
  const hi = ((spanId[4] as number) | ((spanId[5] as number) << 8) | (((spanId[6] as number) ^ (traceId[15] as number)) << 16)) & 0x1fffff;
  return hi * 2 ** 32 + lo;
}
