import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupWindow } from '../../../src/store/sqlite/dedup-window.js';

const id = (bytes: number, seed: number): Uint8Array => Uint8Array.from({ length: bytes }, (_, i) => (seed * 31 + i * 7) & 0xff);

describe('DedupWindow', () => {
  it('recognises a pair seen within the window and forgets it once the window has moved on', () => {
    const window = new DedupWindow(3);
    expect(window.seen(id(16, 1), id(8, 1))).toBe(false);
    expect(window.seen(id(16, 1), id(8, 1))).toBe(true);
    for (let k = 2; k <= 4; k++) window.seen(id(16, k), id(8, k));
    expect(window.seen(id(16, 1), id(8, 1))).toBe(false);
  });

  it('never takes a different pair with the same hash for a duplicate', () => {
    const window = new DedupWindow(10);
    const spanId = id(8, 5);
    // Same span id, different trace id bytes outside the hashed ones: same hash, different key.
    const traceA = id(16, 9);
    const traceB = Uint8Array.from(traceA);
    traceB[0] = (traceB[0] as number) ^ 0xff;
    expect(window.seen(traceA, spanId)).toBe(false);
    expect(window.seen(traceB, spanId)).toBe(false);
    expect(window.seen(traceB, spanId)).toBe(true);
  });

  it('forgets a slot whose spans were rolled back', () => {
    const window = new DedupWindow(10);
    window.seen(id(16, 2), id(8, 2));
    window.forget(window.lastSlot);
    expect(window.seen(id(16, 2), id(8, 2))).toBe(false);
  });

  it('with no capacity (dedup turned off) remembers nothing', () => {
    const window = new DedupWindow(0);
    expect(window.seen(id(16, 3), id(8, 3))).toBe(false);
    expect(window.seen(id(16, 3), id(8, 3))).toBe(false);
    window.forget(window.lastSlot);
  });

  it('answers exactly as a ring of the last `capacity` keys, across wrap-around, rollbacks and colliding ids', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.oneof(fc.record({ key: fc.nat(20) }), fc.constant('forget' as const)), { maxLength: 300 }),
        (capacity, ops) => {
          const window = new DedupWindow(capacity);
          const ring: (number | null)[] = Array(capacity).fill(null);
          let next = 0;
          let recorded = false;
          for (const op of ops) {
            if (op === 'forget') {
              if (!recorded) continue;
              window.forget(window.lastSlot);
              ring[(next + capacity - 1) % capacity] = null;
              recorded = false;
              continue;
            }
            // Keys 0-20 share span ids three at a time and differ only in the trace id: same hash, different key.
            const traceId = id(16, op.key);
            const spanId = id(8, Math.floor(op.key / 3));
            const expected = ring.includes(op.key);
            expect(window.seen(traceId, spanId)).toBe(expected);
            if (!expected) {
              ring[next] = op.key;
              next = (next + 1) % capacity;
            }
            recorded = !expected;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays exact at full size with sequential span ids (no clustering in the table)', () => {
    const window = new DedupWindow(200_000);
    const traceId = new Uint8Array(16);
    const span = (n: number): Uint8Array => Uint8Array.from({ length: 8 }, (_, i) => (i < 4 ? 0 : (n >>> (8 * (7 - i))) & 0xff));
    let duplicates = 0;
    for (let n = 0; n < 300_000; n++) if (window.seen(traceId, span(n))) duplicates++;
    expect(duplicates).toBe(0);
    let remembered = 0;
    for (let n = 100_000; n < 300_000; n += 997) if (window.seen(traceId, span(n))) remembered++;
    expect(remembered).toBe(Math.ceil(200_000 / 997));
    expect(window.seen(traceId, span(99_999))).toBe(false);
  });
});
