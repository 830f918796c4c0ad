/**
 * Capacity trends (ANALYSIS.md §6.4): ordinary least squares on (time, value) with a Student-t
 * confidence interval on the slope, and the time until a saturation threshold is crossed with the range
 * the slope interval implies. A slope whose interval includes 0 is reported as no trend: projecting it
 * would be pretending.
 */

export interface TrendPoint {
  /** Hours relative to the reference time (0 = now; past points negative). */
  x: number;
  y: number;
}

export interface LinearTrend {
  n: number;
  /** Per hour. */
  slope: number;
  intercept: number;
  slopeStdError: number;
  /** Two-sided interval at `level` on the slope; null with fewer than 3 points. */
  slopeLow: number | null;
  slopeHigh: number | null;
  level: number;
  /** 'up' / 'down' when the slope interval excludes 0. */
  direction: 'up' | 'down' | 'none';
}

export interface ThresholdEta {
  /** 'already' when the fitted value at x = 0 is past the threshold; 'never' when the trend heads away or there is none. */
  status: 'eta' | 'already' | 'never';
  /** Hours from x = 0 at the fitted slope and at the interval's fast and slow ends (null = unbounded). */
  hours: number | null;
  soonestHours: number | null;
  latestHours: number | null;
}

export function linearTrend(points: readonly TrendPoint[], level = 0.95): LinearTrend {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = n > 0 ? sx / n : 0;
  const my = n > 0 ? sy / n : 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  if (n < 3 || sxx === 0) return { n, slope, intercept, slopeStdError: NaN, slopeLow: null, slopeHigh: null, level, direction: 'none' };
  let sse = 0;
  for (const p of points) sse += (p.y - intercept - slope * p.x) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  const t = studentTQuantile(1 - (1 - level) / 2, n - 2);
  const slopeLow = slope - t * se;
  const slopeHigh = slope + t * se;
  const direction = slopeLow > 0 ? 'up' : slopeHigh < 0 ? 'down' : 'none';
  return { n, slope, intercept, slopeStdError: se, slopeLow, slopeHigh, level, direction };
}

/** When the fitted line reaches `threshold` (crossing upwards if it is above the fitted value now, downwards if below). */
export function timeToThreshold(trend: LinearTrend, threshold: number): ThresholdEta {
  const now = trend.intercept;
  const rising = threshold >= now;
  if (trend.direction === 'none' || trend.slopeLow === null || trend.slopeHigh === null) {
    return { status: 'never', hours: null, soonestHours: null, latestHours: null };
  }
  if ((rising && trend.direction === 'down') || (!rising && trend.direction === 'up')) {
    return { status: 'never', hours: null, soonestHours: null, latestHours: null };
  }
  if (threshold === now) return { status: 'already', hours: 0, soonestHours: 0, latestHours: 0 };
  const gap = threshold - now;
  // Same sign as gap; the interval end nearer zero gives the latest crossing.
  const fast = rising ? trend.slopeHigh : trend.slopeLow;
  const slow = rising ? trend.slopeLow : trend.slopeHigh;
  return { status: 'eta', hours: gap / trend.slope, soonestHours: gap / fast, latestHours: slow === 0 ? null : gap / slow };
}

/** Quantile of Student's t with `df` degrees of freedom (bisection on the exact CDF). */
export function studentTQuantile(p: number, df: number): number {
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** I_x(a, b) by the continued fraction (Numerical Recipes betai/betacf). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Lanczos approximation (g = 7, n = 9). */
function logGamma(z: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const zz = z - 1;
  let x = g[0]!;
  for (let i = 1; i < 9; i++) x += g[i]! / (zz + i);
  const t = zz + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(t) - t + Math.log(x);
}
