/**
 * Scalar readers for the metrics normalizer: each accepts both loose shapes (protobufjs values: Long,
 * Uint8Array, numbers; OTLP/JSON values: decimal strings, hex ids, "NaN"/"Infinity", enum names) and
 * throws PointRejection with a short reason that ends up in partial_success.error_message.
 */
import type { Temporality } from '../model/metric.js';

/** A problem confined to one data point: the point is rejected and counted, its batch-mates are kept. */
export class PointRejection extends Error {}

/** A problem that cannot be confined to one data point (the request's structure is wrong). */
export class EnvelopeError extends Error {}

export type Loose = Record<string, unknown>;

const TEMPORALITY_NAMES = new Map<string, number>([
  ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 0],
  ['AGGREGATION_TEMPORALITY_DELTA', 1],
  ['AGGREGATION_TEMPORALITY_CUMULATIVE', 2],
]);


export function isObject(v: unknown): v is Loose {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** An own property that is set (oneof members and proto3 optionals are own properties when present). */
export function own(o: Loose, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(o, key)) return undefined;
  const v = o[key];
  return v === null ? undefined : v;
}

export function get(o: Loose, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  if (camel === snake) return undefined;
  const w = o[snake];
  return w === null ? undefined : w;
}

export function list(o: Loose, camel: string, snake: string, where: string): unknown[] {
  const v = get(o, camel, snake);
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new EnvelopeError(`${where} must be an array`);
  return v;
}

export function optArray(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PointRejection(`${what} is not an array`);
  return v;
}

export function asString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function sumOf(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}

export function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

export function longToBigInt(v: LongLike, signed: boolean): bigint {
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return signed ? BigInt.asIntN(64, bits) : bits;
}

export function u64(v: unknown, what: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'bigint') {
    if (v < 0n || v > 0xffffffffffffffffn) throw new PointRejection(`${what} is not an unsigned 64-bit integer`);
    return v;
  }
  if (isLong(v)) return longToBigInt(v, false);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b <= 0xffffffffffffffffn) return b;
  }
  if ((typeof v === 'string' && /^-\d+$/.test(v)) || (typeof v === 'number' && v < 0)) throw new PointRejection(`${what} is negative`);
  throw new PointRejection(`${what} is not an unsigned 64-bit integer`);
}

export function i64(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return BigInt.asIntN(64, v);
  if (isLong(v)) return longToBigInt(v, true);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b >= -0x8000000000000000n && b <= 0x7fffffffffffffffn) return b;
  }
  throw new PointRejection(`${what} is not a signed 64-bit integer`);
}

/** A count (uint64) as a double; a negative JSON count is rejected by name. */
export function count(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'number' && v < 0) throw new PointRejection(`${what} is negative`);
  return Number(u64(v, what));
}

export function uint32(v: unknown): number {
  if (v === undefined) return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff) return n;
  throw new PointRejection('flags is not a valid uint32');
}

export function sint32(v: unknown, what: string): number {
  if (v === undefined) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff) return n;
  throw new PointRejection(`${what} is not a valid int32`);
}

const SPECIAL_DOUBLES = new Map([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]]);
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export function double(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const special = SPECIAL_DOUBLES.get(v);
    if (special !== undefined) return special;
    if (DECIMAL.test(v)) return Number(v);
  }
  throw new PointRejection(`${what} is not a number`);
}

export function temporalityOf(v: unknown): Temporality {
  let n: unknown = v;
  if (typeof v === 'string') n = TEMPORALITY_NAMES.get(v) ?? (/^\d+$/.test(v) ? Number(v) : undefined);
  if (n === 1 || n === 2) return n;
  if (n === undefined || n === 0) throw new PointRejection('aggregation_temporality is unspecified');
  throw new PointRejection('aggregation_temporality is not 1 (delta) or 2 (cumulative)');
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Trace/span ids: bytes from protobuf, hex strings in OTLP/JSON; '' when unset or invalid. */
export function idHex(v: unknown, size: number): string {
  if (v === undefined) return '';
  if (v instanceof Uint8Array) return v.length === size ? Buffer.from(v).toString('hex') : '';
  if (typeof v === 'string' && v.length === size * 2 && HEX.test(v)) return v.toLowerCase();
  return '';
}
