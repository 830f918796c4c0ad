/** `array`, or a copy at least twice as long when it is shorter than `length` (amortised growth). */
export function grown<T extends Int32Array | Uint32Array | Float64Array>(array: T, length: number): T {
  if (length <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(length, 2 * array.length));
  next.set(array);
  return next;
}
