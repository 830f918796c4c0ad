/**
 * Number and timestamp syntax shared by both text formats. Values are float64 (`NaN`, `+Inf`, `-Inf`
 * case-insensitively, as Go's ParseFloat and OpenMetrics' case-insensitive ABNF allow); timestamps are
 * converted to Unix nanoseconds as bigint without going through a float.
 */
const REAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^([+-]?)inf(?:inity)?$/i;
const NAN = /^nan$/i;

/** A float64 from its text, or undefined when the text is not a number in the exposition syntax. */
export function parseNumber(text: string): number | undefined {
  if (REAL.test(text)) return Number(text);
  const inf = INF.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (NAN.test(text)) return NaN;
  return undefined;
}

const INT = /^-?\d{1,19}$/;

/** 0.0.4 timestamps: integer milliseconds since the epoch. */
export function millisToNanos(text: string): bigint | undefined {
  return INT.test(text) ? BigInt(text) * 1_000_000n : undefined;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;

/** OpenMetrics timestamps: seconds since the epoch, possibly fractional or with an exponent; exact to the ns. */
export function secondsToNanos(text: string): bigint | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const whole = m[2] ?? '';
  const frac = m[3] ?? '';
  if (whole === '' && frac === '') return undefined;
  const exp = Number(m[4] ?? '0') - frac.length + 9;
  if (exp > 30 || whole.length + frac.length > 40) return undefined;
  const digits = BigInt(`${whole}${frac}` || '0');
  const ns = exp >= 0 ? digits * 10n ** BigInt(exp) : digits / 10n ** BigInt(-exp);
  return m[1] === '-' ? -ns : ns;
}

/** float64 seconds (a `_created` sample's value) to Unix ns, at microsecond precision (float64 holds no more). */
export function floatSecondsToNanos(seconds: number): bigint | undefined {
  if (!Number.isFinite(seconds) || Math.abs(seconds) > 1e13) return undefined;
  return BigInt(Math.round(seconds * 1e6)) * 1000n;
}
