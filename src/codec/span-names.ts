const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Span names of one request by their bytes: a name is decoded from UTF-8 once per request, not once per
 * span (a request repeats a few dozen names over hundreds of spans). Open addressing on an FNV-1a hash,
 * slots invalidated per request by a generation number.
 */
export class SpanNames {
  private slots = new Int32Array(256);
  private generations = new Int32Array(256);
  private generation = 0;
  private used = 0;
  /** Per string index of a name: where its bytes are in the request. */
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private buf: Uint8Array = new Uint8Array(0);

  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.used = 0;
    if (++this.generation === 0x7fffffff) {
      this.generation = 1;
      this.generations.fill(0);
    }
    return this;
  }

  /** The string index of the name in [start, end); `intern` gives a newly decoded name its index. */
  indexOf(start: number, end: number, intern: (name: string) => number): number {
    const buf = this.buf;
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (buf[i] as number), 0x01000193);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      if (this.generations[slot] !== this.generation) {
        const index = intern(start === end ? '' : textDecoder.decode(buf.subarray(start, end)));
        this.remember(slot, index, start, end);
        return index;
      }
      const index = this.slots[slot] as number;
      if (this.sameBytes(index, start, end)) return index;
    }
  }

  private sameBytes(index: number, start: number, end: number): boolean {
    const s = this.starts[index] as number;
    if ((this.ends[index] as number) - s !== end - start) return false;
    const buf = this.buf;
    for (let i = 0; i < end - start; i++) if (buf[s + i] !== buf[start + i]) return false;
    return true;
  }

  private remember(slot: number, index: number, start: number, end: number): void {
    if (index >= this.starts.length) {
      const starts = new Int32Array(2 * index + 2);
      const ends = new Int32Array(2 * index + 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[index] = start;
    this.ends[index] = end;
    this.slots[slot] = index;
    this.generations[slot] = this.generation;
    // Kept at most half full; growing re-inserts this request's names (older generations are dead).
    if (++this.used * 2 > this.slots.length) this.grow();
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldGenerations = this.generations;
    this.slots = new Int32Array(2 * oldSlots.length);
    this.generations = new Int32Array(2 * oldSlots.length);
    const mask = this.slots.length - 1;
    const buf = this.buf;
    for (let slot = 0; slot < oldSlots.length; slot++) {
      if (oldGenerations[slot] !== this.generation) continue;
      const index = oldSlots[slot] as number;
      const start = this.starts[index] as number;
      const end = this.ends[index] as number;
      let hash = 0x811c9dc5;
      for (let i = start; i < end; i++) hash = Math.imul(hash ^ (buf[i] as number), 0x01000193);
      let at = hash & mask;
      while (this.generations[at] === this.generation) at = (at + 1) & mask;
      this.slots[at] = index;
      this.generations[at] = this.generation;
    }
  }
}

