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
});
