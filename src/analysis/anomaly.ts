/**
 * Per-minute anomaly detection (ANALYSIS.md §6.2): robust z-scores of p95, error rate and throughput
 * per (service, operation, kind) against a baseline's median and MAD. The caller picks the baseline
 * (same time of day on earlier days when history allows, else a trailing window) and says which.
 * Scale floors keep a flat baseline (MAD = 0) from turning noise into infinite z: 1 % of the median for
 * latency (the spec's floor, above the HDR resolution), the binomial standard deviation for error
 * rates and the Poisson one for counts, so a single extra error or request is never an anomaly.
 */

export type AnomalyMetric = 'p95_ms' | 'error_rate' | 'throughput';

export interface MinutePoint {
  startMs: number;
  count: number;
  errors: number;
  /** Null when the minute has no spans. */
  p95Ms: number | null;
}

export interface KeySeries {
  service: string;
  operation: string;
  kind: number;
  /** Every minute of the analysed window, empty minutes included (count 0). */
  current: readonly MinutePoint[];
  /** Every minute of the baseline, empty minutes included. */
  baseline: readonly MinutePoint[];
}

export interface AnomalyOptions {
  /** |z| at or above this is anomalous (Iglewicz–Hoaglin 3.5). */
  threshold?: number;
  /** Minutes with fewer spans are skipped for p95 and error rate (spec: 20). */
  minCount?: number;
}

export interface RobustZ {
  median: number;
  mad: number;
  /** max(1.4826·MAD, floor). */
  scale: number;
  z: number;
}

export interface Anomaly {
  service: string;
  operation: string;
  kind: number;
  metric: AnomalyMetric;
  /** Start (epoch ms) of each anomalous minute in this contiguous run, ascending. */
  minutes: number[];
  /** The minute with the largest |z| and its evidence. */
  peakMs: number;
  observed: number;
  median: number;
  mad: number;
  z: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function robustZ(x: number, baseline: readonly number[], floor: number): RobustZ {
  const m = median(baseline);
  const mad = median(baseline.map((v) => Math.abs(v - m)));
  const scale = Math.max(1.4826 * mad, floor);
  return { median: m, mad, scale, z: scale > 0 ? (x - m) / scale : 0 };
}

interface MetricRule {
  metric: AnomalyMetric;
  value: (p: MinutePoint) => number | null;
  floor: (median: number, p: MinutePoint) => number;
  twoSided: boolean;
}

export function detectAnomalies(keys: readonly KeySeries[], options: AnomalyOptions = {}): Anomaly[] {
  const threshold = options.threshold ?? 3.5;
  const minCount = options.minCount ?? 20;
  const rules: MetricRule[] = [
    { metric: 'p95_ms', value: (p) => (p.count >= minCount ? p.p95Ms : null), floor: (m) => Math.max(0.01 * Math.abs(m), 0.001), twoSided: false },
    {
      metric: 'error_rate',
      value: (p) => (p.count >= minCount ? p.errors / p.count : null),
      floor: (m, p) => {
        const rate = Math.min(Math.max(m, 1 / p.count), 0.5);
        return Math.sqrt((rate * (1 - rate)) / p.count);
      },
      twoSided: false,
    },
    { metric: 'throughput', value: (p) => p.count, floor: (m) => Math.sqrt(Math.max(m, 1)), twoSided: true },
  ];
  const out: Anomaly[] = [];
  for (const key of keys) {
    for (const rule of rules) {
      const base = key.baseline.map(rule.value).filter((v): v is number => v !== null);
      if (base.length < 5) continue;
      const m = median(base);
      let run: Anomaly | null = null;
      let lastMs = Number.NEGATIVE_INFINITY;
      for (const point of key.current) {
        const x = rule.value(point);
        const rz = x === null ? null : robustZ(x, base, rule.floor(m, point));
        const hit = rz !== null && (rule.twoSided ? Math.abs(rz.z) >= threshold : rz.z >= threshold);
        if (!hit || x === null || rz === null) {
          run = null;
          continue;
        }
        if (run === null || point.startMs - lastMs > 60_000) {
          run = { service: key.service, operation: key.operation, kind: key.kind, metric: rule.metric, minutes: [], peakMs: point.startMs, observed: x, median: rz.median, mad: rz.mad, z: rz.z };
          out.push(run);
        }
        run.minutes.push(point.startMs);
        lastMs = point.startMs;
        if (Math.abs(rz.z) > Math.abs(run.z)) Object.assign(run, { peakMs: point.startMs, observed: x, median: rz.median, mad: rz.mad, z: rz.z });
      }
    }
  }
  return out.sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || b.minutes.length - a.minutes.length || a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation) || a.metric.localeCompare(b.metric));
}

/** Every step of [startMs, endMs) at `stepMs`, with the given points and zeros elsewhere. */
export function fillMinutes(points: readonly MinutePoint[], startMs: number, endMs: number, stepMs = 60_000): MinutePoint[] {
  const byStart = new Map(points.map((p) => [p.startMs, p]));
  const out: MinutePoint[] = [];
  for (let t = Math.ceil(startMs / stepMs) * stepMs; t < endMs; t += stepMs) out.push(byStart.get(t) ?? { startMs: t, count: 0, errors: 0, p95Ms: null });
  return out;
}
