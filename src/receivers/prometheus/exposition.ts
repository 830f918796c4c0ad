/**
 * A parsed Prometheus exposition: the text format 0.0.4 and OpenMetrics 1.0 text, in one shape.
 * Specs: https://prometheus.io/docs/instrumenting/exposition_formats/ and
 * https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
export type ExpositionFormat = 'prometheus-text' | 'openmetrics';

/** `untyped` is the 0.0.4 spelling of OpenMetrics' `unknown`; both map alike. */
export type FamilyType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown'
  | 'untyped';

export interface Label {
  name: string;
  value: string;
}

export interface Exemplar {
  labels: Label[];
  value: number;
  /** Unix time in nanoseconds, when the exemplar carries one. */
  timeNs?: bigint;
}

export interface Sample {
  /** Full sample name, suffix included (`http_requests_total`, `latency_seconds_bucket`). */
  name: string;
  /** The suffix that distinguishes this sample inside its family (`_bucket`, `_total`, `` …). */
  suffix: string;
  labels: Label[];
  /** float64, NaN and ±Infinity included. */
  value: number;
  /** Unix time in nanoseconds, when the exposition gives one (0.0.4: milliseconds; OpenMetrics: seconds). */
  timeNs?: bigint;
  exemplar?: Exemplar;
  /** 1-based line number in the exposition, for error messages further down. */
  line: number;
}

export interface MetricFamily {
  /** Family name: for OpenMetrics without the type suffix (`http_requests`), for 0.0.4 as declared. */
  name: string;
  type: FamilyType;
  /** Whether the type came from a `# TYPE` line (families without one follow the unknown-type rules). */
  typed: boolean;
  help?: string;
  unit?: string;
  samples: Sample[];
}

export interface Exposition {
  format: ExpositionFormat;
  families: MetricFamily[];
}

/** The only error the parser throws: the exposition is not valid, with the 1-based line where it broke. */
export class ExpositionParseError extends Error {
  override readonly name = 'ExpositionParseError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** Sample suffixes each family type allows, per format. */
export const SUFFIXES: Record<ExpositionFormat, Record<FamilyType, readonly string[]>> = {
  openmetrics: {
    counter: ['_total', '_created'],
    gauge: [''],
    histogram: ['_bucket', '_count', '_sum', '_created'],
    gaugehistogram: ['_gbucket', '_gcount', '_gsum'],
    summary: ['', '_count', '_sum', '_created'],
    info: ['_info'],
    stateset: [''],
    unknown: [''],
    untyped: [''],
  },
  'prometheus-text': {
    counter: [''],
    gauge: [''],
    histogram: ['_bucket', '_count', '_sum'],
    gaugehistogram: ['_bucket', '_count', '_sum'],
    summary: ['', '_count', '_sum'],
    info: [''],
    stateset: [''],
    unknown: [''],
    untyped: [''],
  },
};

/** Content type negotiation for scrapes: OpenMetrics preferred, 0.0.4 as the fallback (Prometheus' own order). */
export const SCRAPE_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.9,application/openmetrics-text;version=0.0.1;q=0.8,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** The format a scrape response is in, from its Content-Type (anything not OpenMetrics is read as 0.0.4 text). */
export function formatOfContentType(contentType: string | null | undefined): ExpositionFormat {
  return /^\s*application\/openmetrics-text\b/i.test(contentType ?? '') ? 'openmetrics' : 'prometheus-text';
}
