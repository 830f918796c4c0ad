import type { Exemplar, Exposition, Label, MetricFamily } from './exposition.js';
import { floatSecondsToNanos, parseNumber } from './numbers.js';
import type { StartTimes } from './start-times.js';
import { otelUnit } from './units.js';
import {
  CUMULATIVE,
  jsonDouble,
  stringAttr,
  type JsonExemplar,
  type JsonHistogramPoint,
  type JsonKeyValue,
  type JsonMetric,
  type JsonMetricsRequest,
  type JsonNumberPoint,
  type JsonScopeMetrics,
  type JsonSummaryPoint,
} from './otlp-json.js';

/** The scope of metrics that carry no `otel_scope_name` label: the entity doing the translation. */
export const RECEIVER_SCOPE = 'spanlens/receiver/prometheus';

export interface ScrapeResult {
  job: string;
  url: URL;
  /** Scrape start, Unix ns: the time of every point whose sample has no timestamp. */
  timeNs: bigint;
  durationSeconds: number;
  /** The parsed exposition; absent when the target was down or its exposition invalid. */
  exposition?: Exposition;
}

export interface MappedScrape {
  request: JsonMetricsRequest;
  /** Data points built from the exposition (the synthetic up/scrape_* points excluded). */
  points: number;
  samples: number;
  /** Points left out, each with a reason in `problems` (first few only). */
  dropped: number;
  problems: string[];
}

const MAX_PROBLEMS = 10;
const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const SPAN_ID = /^[0-9a-fA-F]{16}$/;

/**
 * One scrape → one ExportMetricsServiceRequest in OTLP/JSON, following the OTel "Prometheus and
 * OpenMetrics Compatibility" spec: counter → monotonic cumulative Sum, gauge/unknown → Gauge, histogram
 * → explicit-bucket Histogram, summary → Summary, info/stateset → non-monotonic Sum, gaugehistogram
 * dropped; names kept as exposed (counters with `_total`); `# UNIT` converted; `_created` (or the first
 * observation, see StartTimes) gives the start time; `target_info` labels and job/instance become resource
 * attributes; `otel_scope_*` labels pick the scope. The synthetic `up`, `scrape_duration_seconds` and
 * `scrape_samples_scraped` gauges are always added, so a down target is visible as `up` 0.
 */
export function scrapeToOtlp(result: ScrapeResult, startTimes: StartTimes): MappedScrape {
  const b = new Builder(result.timeNs, startTimes);
  const resource: JsonKeyValue[] = [
    stringAttr('service.name', result.job),
    stringAttr('service.instance.id', result.url.host),
    stringAttr('server.address', result.url.hostname),
    { key: 'server.port', value: { intValue: result.url.port || (result.url.protocol === 'https:' ? '443' : '80') } },
    stringAttr('url.scheme', result.url.protocol.replace(/:$/, '')),
  ];
  let samples = 0;
  if (result.exposition) {
    const families = result.exposition.families;
    const om = result.exposition.format === 'openmetrics';
    const created = om ? new Map<string, bigint>() : createdFamilies(families);
    for (const f of families) {
      samples += f.samples.length;
      if (isTargetInfo(f, om)) {
        for (const s of f.samples) for (const l of s.labels) resource.push(stringAttr(l.name, l.value));
      } else if (f.name === 'otel_scope' || f.name === 'otel_scope_info') {
        b.scopeInfo(f);
      } else if (!created.has(`family\0${f.name}`)) {
        b.family(f, om, created);
      }
    }
  }
  const t = result.timeNs.toString();
  const up = result.exposition ? 1 : 0;
  const synthetic = b.scope(undefined, undefined);
  synthetic.metrics.push(
    gauge('up', 'Whether the last scrape of the target succeeded (1) or not (0).', '', up, t),
    gauge('scrape_duration_seconds', 'Duration of the scrape.', 's', result.durationSeconds, t),
    gauge('scrape_samples_scraped', 'Samples the target exposed in the scrape.', '', samples, t),
  );
  return {
    request: { resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [...b.scopes.values()] }] },
    points: b.points,
    samples,
    dropped: b.dropped,
    problems: b.problems,
  };
}

function gauge(name: string, description: string, unit: string, value: number, t: string): JsonMetric {
  return { name, description, unit, gauge: { dataPoints: [{ attributes: [], timeUnixNano: t, asDouble: jsonDouble(value) }] } };
}

function isTargetInfo(f: MetricFamily, om: boolean): boolean {
  return om ? f.name === 'target' && f.type === 'info' : f.name === 'target_info';
}

/**
 * 0.0.4 has no `_created` samples, but client_python exposes them as a gauge family `<base>_created`
 * beside counter `<base>_total`, histogram or summary `<base>`. Those families are folded into the start
 * times (keyed by base name + labels) and not exported as gauges.
 */
function createdFamilies(families: MetricFamily[]): Map<string, bigint> {
  const cumulative = new Set<string>();
  for (const f of families) {
    if (f.type === 'counter') cumulative.add(f.name.endsWith('_total') ? f.name.slice(0, -6) : f.name);
    if (f.type === 'histogram' || f.type === 'summary') cumulative.add(f.name);
  }
  const created = new Map<string, bigint>();
  for (const f of families) {
    if (!f.name.endsWith('_created') || (f.type !== 'gauge' && f.type !== 'untyped')) continue;
    const base = f.name.slice(0, -8);
    if (!cumulative.has(base)) continue;
    created.set(`family\0${f.name}`, 0n);
    for (const s of f.samples) {
      const ns = floatSecondsToNanos(s.value);
      if (ns !== undefined) created.set(`${base}\0${labelKey(s.labels, '')}`, ns);
    }
  }
  return created;
}

function labelKey(labels: Label[], omit: string): string {
  let key = '';
  for (const l of [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (l.name !== omit && l.name !== 'otel_scope_name' && l.name !== 'otel_scope_version') key += `${l.name}\0${l.value}\0`;
  }
  return key;
}

interface Group {
  labels: Label[];
  timeNs?: bigint;
  created?: bigint;
  count?: number;
  sum?: number;
  entries: { bound: number; value: number; exemplar?: Exemplar }[];
}

class Builder {
  readonly scopes = new Map<string, JsonScopeMetrics>();
  private readonly scopeAttrs = new Map<string, JsonKeyValue[]>();
  private readonly metricsOf = new Map<JsonScopeMetrics, Map<string, JsonMetric>>();
  points = 0;
  dropped = 0;
  readonly problems: string[] = [];

  constructor(
    private readonly timeNs: bigint,
    private readonly startTimes: StartTimes,
  ) {}

  scope(name: string | undefined, version: string | undefined): JsonScopeMetrics {
    const key = `${name ?? ''}\0${version ?? ''}`;
    let scope = this.scopes.get(key);
    if (!scope) {
      scope = { scope: name === undefined ? { name: RECEIVER_SCOPE } : { name, ...(version ? { version } : {}) }, metrics: [] };
      const attrs = this.scopeAttrs.get(key);
      if (attrs) scope.scope.attributes = attrs;
      this.scopes.set(key, scope);
    }
    return scope;
  }

  scopeInfo(f: MetricFamily): void {
    for (const s of f.samples) {
      const name = s.labels.find((l) => l.name === 'otel_scope_name')?.value ?? '';
      const version = s.labels.find((l) => l.name === 'otel_scope_version')?.value ?? '';
      const attrs = s.labels.filter((l) => l.name !== 'otel_scope_name' && l.name !== 'otel_scope_version');
      this.scopeAttrs.set(`${name}\0${version}`, attrs.map((l) => stringAttr(l.name, l.value)));
    }
  }

  family(f: MetricFamily, om: boolean, created: Map<string, bigint>): void {
    switch (f.type) {
      case 'counter':
        return this.numbers(f, om && !f.name.endsWith('_total') ? `${f.name}_total` : f.name, 'counter', om, created);
      case 'info':
        return this.numbers(f, om ? `${f.name}_info` : f.name, 'info', om, created);
      case 'stateset':
        return this.numbers(f, f.name, 'stateset', om, created);
      case 'histogram':
        return this.histogram(f, created);
      case 'summary':
        return this.summary(f, created);
      case 'gaugehistogram':
        this.drop(f.samples.length, `${f.name}: gaugehistogram is not converted (OTel compatibility spec)`);
        return;
      default:
        return this.numbers(f, f.name, 'gauge', om, created);
    }
  }

  private metric(f: MetricFamily, name: string, labels: Label[], make: () => JsonMetric): JsonMetric {
    const scope = this.scope(
      labels.find((l) => l.name === 'otel_scope_name')?.value,
      labels.find((l) => l.name === 'otel_scope_version')?.value,
    );
    let byName = this.metricsOf.get(scope);
    if (!byName) this.metricsOf.set(scope, (byName = new Map()));
    let metric = byName.get(name);
    if (!metric) {
      metric = make();
      if (f.help) metric.description = f.help;
      if (f.unit) metric.unit = otelUnit(f.unit);
      metric.metadata = [stringAttr('prometheus.type', f.type === 'untyped' ? 'unknown' : f.type)];
      scope.metrics.push(metric);
      byName.set(name, metric);
    }
    return metric;
  }

  private numbers(f: MetricFamily, name: string, kind: 'counter' | 'gauge' | 'info' | 'stateset', om: boolean, created: Map<string, bigint>): void {
    const createdOm = new Map<string, bigint>();
    if (om && kind === 'counter') {
      for (const s of f.samples) {
        const ns = s.suffix === '_created' ? floatSecondsToNanos(s.value) : undefined;
        if (ns !== undefined) createdOm.set(labelKey(s.labels, ''), ns);
      }
    }
    const base = name.endsWith('_total') ? name.slice(0, -6) : name;
    for (const s of f.samples) {
      if (s.suffix === '_created') continue;
      const key = labelKey(s.labels, '');
      const timeNs = s.timeNs ?? this.timeNs;
      const point: JsonNumberPoint = { attributes: attributes(s.labels, ''), timeUnixNano: timeNs.toString(), asDouble: jsonDouble(s.value) };
      if (kind !== 'gauge') {
        if (kind === 'counter' && !(s.value >= 0)) {
          this.drop(1, `${s.name} line ${s.line}: a counter must be a non-negative number, not ${s.value}`);
          continue;
        }
        const createdNs = createdOm.get(key) ?? created.get(`${base}\0${key}`);
        point.startTimeUnixNano = this.startTimes.startOf(`${name}\0${key}`, timeNs, s.value, createdNs).toString();
        if (s.exemplar) point.exemplars = [exemplar(s.exemplar, timeNs)];
      }
      const metric = this.metric(f, name, s.labels, () =>
        kind === 'gauge'
          ? { name, gauge: { dataPoints: [] } }
          : { name, sum: { aggregationTemporality: CUMULATIVE, isMonotonic: kind === 'counter', dataPoints: [] } },
      );
      ('gauge' in metric ? metric.gauge : 'sum' in metric ? metric.sum : { dataPoints: [] }).dataPoints.push(point);
      this.points++;
    }
  }

  private groups(f: MetricFamily, omit: string, created: Map<string, bigint>): Map<string, Group> {
    const groups = new Map<string, Group>();
    for (const s of f.samples) {
      const key = labelKey(s.labels, omit);
      let g = groups.get(key);
      if (!g) {
        g = { labels: s.labels.filter((l) => l.name !== omit), entries: [] };
        const ns = created.get(`${f.name}\0${key}`);
        if (ns !== undefined) g.created = ns;
        groups.set(key, g);
      }
      if (s.timeNs !== undefined) g.timeNs = s.timeNs;
      if (s.suffix === '_count') g.count = s.value;
      else if (s.suffix === '_sum') g.sum = s.value;
      else if (s.suffix === '_created') {
        const ns = floatSecondsToNanos(s.value);
        if (ns !== undefined) g.created = ns;
      } else {
        const bound = parseNumber(s.labels.find((l) => l.name === omit)?.value ?? '') ?? NaN;
        g.entries.push({ bound, value: s.value, ...(s.exemplar ? { exemplar: s.exemplar } : {}) });
      }
    }
    return groups;
  }

  private histogram(f: MetricFamily, created: Map<string, bigint>): void {
    for (const [key, g] of this.groups(f, 'le', created)) {
      const problem = histogramProblem(g);
      if (problem) {
        this.drop(1, `${f.name}{${key.replace(/\0/g, ' ').trim()}}: ${problem}`);
        continue;
      }
      const count = g.count as number;
      const entries = g.entries.sort((a, b) => a.bound - b.bound);
      const timeNs = g.timeNs ?? this.timeNs;
      const point: JsonHistogramPoint = {
        attributes: attributes(g.labels, ''),
        startTimeUnixNano: this.startTimes.startOf(`${f.name}\0${key}`, timeNs, count, g.created).toString(),
        timeUnixNano: timeNs.toString(),
        count: String(count),
        bucketCounts: entries.length === 0 ? [String(count)] : entries.map((e, i) => String(e.value - (i === 0 ? 0 : (entries[i - 1] as { value: number }).value))),
        explicitBounds: entries.slice(0, -1).map((e) => jsonDouble(e.bound)),
      };
      if (g.sum !== undefined) point.sum = jsonDouble(g.sum);
      const exemplars = entries.flatMap((e) => (e.exemplar ? [exemplar(e.exemplar, timeNs)] : []));
      if (exemplars.length > 0) point.exemplars = exemplars;
      const metric = this.metric(f, f.name, g.labels, () => ({ name: f.name, histogram: { aggregationTemporality: CUMULATIVE, dataPoints: [] } }));
      if ('histogram' in metric) metric.histogram.dataPoints.push(point);
      this.points++;
    }
  }

  private summary(f: MetricFamily, created: Map<string, bigint>): void {
    for (const [key, g] of this.groups(f, 'quantile', created)) {
      if (g.count === undefined || !Number.isInteger(g.count) || g.count < 0) {
        this.drop(1, `${f.name}{${key.replace(/\0/g, ' ').trim()}}: a summary needs a non-negative integer _count`);
        continue;
      }
      const timeNs = g.timeNs ?? this.timeNs;
      const point: JsonSummaryPoint = {
        attributes: attributes(g.labels, ''),
        startTimeUnixNano: this.startTimes.startOf(`${f.name}\0${key}`, timeNs, g.count, g.created).toString(),
        timeUnixNano: timeNs.toString(),
        count: String(g.count),
        sum: jsonDouble(g.sum ?? 0),
        quantileValues: g.entries.sort((a, b) => a.bound - b.bound).map((e) => ({ quantile: e.bound, value: jsonDouble(e.value) })),
      };
      const metric = this.metric(f, f.name, g.labels, () => ({ name: f.name, summary: { dataPoints: [] } }));
      if ('summary' in metric) metric.summary.dataPoints.push(point);
      this.points++;
    }
  }

  private drop(points: number, problem: string): void {
    this.dropped += points;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
  }
}

/** Why a histogram group cannot become a valid OTLP point (bucket counts that do not match the bounds). */
function histogramProblem(g: Group): string | undefined {
  if (g.count === undefined) return 'no _count sample';
  if (!Number.isInteger(g.count) || g.count < 0) return `_count ${g.count} is not a non-negative integer`;
  if (g.entries.length === 0) return undefined;
  const sorted = [...g.entries].sort((a, b) => a.bound - b.bound);
  let prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as (typeof sorted)[number];
    if (Number.isNaN(e.bound)) return 'a bucket bound is NaN';
    if (i > 0 && e.bound === (sorted[i - 1] as (typeof sorted)[number]).bound) return `bucket le="${e.bound}" appears twice`;
    if (!Number.isInteger(e.value) || e.value < prev) return `bucket le="${e.bound}" count ${e.value} is not a cumulative count`;
    prev = e.value;
  }
  const last = sorted[sorted.length - 1] as (typeof sorted)[number];
  if (last.bound !== Infinity) return 'no le="+Inf" bucket';
  if (last.value !== g.count) return `the +Inf bucket (${last.value}) differs from _count (${g.count})`;
  return undefined;
}

function attributes(labels: Label[], omit: string): JsonKeyValue[] {
  const out: JsonKeyValue[] = [];
  for (const l of labels) {
    if (l.name !== omit && l.name !== 'otel_scope_name' && l.name !== 'otel_scope_version') out.push(stringAttr(l.name, l.value));
  }
  return out;
}

/** trace_id / span_id labels become the exemplar's ids when they are valid hex; other labels are attributes. */
function exemplar(e: Exemplar, pointTimeNs: bigint): JsonExemplar {
  const out: JsonExemplar = { timeUnixNano: (e.timeNs ?? pointTimeNs).toString(), asDouble: jsonDouble(e.value) };
  const filtered: JsonKeyValue[] = [];
  for (const l of e.labels) {
    if (l.name === 'trace_id' && TRACE_ID.test(l.value)) out.traceId = l.value.toLowerCase();
    else if (l.name === 'span_id' && SPAN_ID.test(l.value)) out.spanId = l.value.toLowerCase();
    else filtered.push(stringAttr(l.name, l.value));
  }
  if (filtered.length > 0) out.filteredAttributes = filtered;
  return out;
}

