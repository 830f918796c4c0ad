import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../../src/receivers/prometheus/parse.js';
import { ExpositionParseError, formatOfContentType, type ExpositionFormat } from '../../../../src/receivers/prometheus/exposition.js';

const CORPUS = new URL('../../../fixtures/prometheus/corpus/', import.meta.url);
const TEXT: ExpositionFormat = 'prometheus-text';
const OM: ExpositionFormat = 'openmetrics';

function errorOf(text: string, format: ExpositionFormat): ExpositionParseError {
  try {
    parseExposition(text, format);
  } catch (err) {
    if (err instanceof ExpositionParseError) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe('text format 0.0.4', () => {
  it('parses HELP, TYPE, labels with escapes, timestamps, special values and untyped samples', () => {
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      '# Escaping in label values:',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      '',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      '\tindented{a="b",} NaN',
      'neg -Inf\r',
    ].join('\n');
    const { families } = parseExposition(text, TEXT);
    expect(families.map((f) => [f.name, f.type, f.typed])).toEqual([
      ['http_requests_total', 'counter', true],
      ['msdos_file_access_time_seconds', 'untyped', false],
      ['metric_without_timestamp_and_labels', 'untyped', false],
      ['something_weird', 'untyped', false],
      ['indented', 'untyped', false],
      ['neg', 'untyped', false],
    ]);
    const [requests, msdos, , weird, indented, neg] = families;
    expect(requests?.help).toBe('The total number of HTTP requests.');
    expect(requests?.samples[1]).toMatchObject({ value: 3, timeNs: 1395066363000n * 1_000_000n, line: 4 });
    expect(requests?.samples[0]?.labels).toEqual([{ name: 'method', value: 'post' }, { name: 'code', value: '200' }]);
    expect(msdos?.samples[0]?.labels).toEqual([
      { name: 'path', value: 'C:\\DIR\\FILE.TXT' },
      { name: 'error', value: 'Cannot find file:\n"FILE.TXT"' },
    ]);
    expect(msdos?.samples[0]?.value).toBe(1.458255915e9);
    expect(weird?.samples[0]).toMatchObject({ value: Infinity, timeNs: -3982045n * 1_000_000n });
    expect(indented?.samples[0]?.value).toBeNaN();
    expect(neg?.samples[0]?.value).toBe(-Infinity);
  });

  it('groups histogram and summary samples into their families', () => {
    const text = [
      '# TYPE rpc histogram',
      'rpc_bucket{le="0.05"} 24054',
      'rpc_bucket{le="+Inf"} 144320',
      'rpc_sum 53423',
      'rpc_count 144320',
      '# TYPE rpc_duration_seconds summary',
      'rpc_duration_seconds{quantile="0.01"} 3102',
      'rpc_duration_seconds_sum 1.7560473e+07',
      'rpc_duration_seconds_count 2693',
    ].join('\n');
    const { families } = parseExposition(text, TEXT);
    expect(families).toHaveLength(2);
    expect(families[0]?.samples.map((s) => s.suffix)).toEqual(['_bucket', '_bucket', '_sum', '_count']);
    expect(families[1]?.samples.map((s) => s.suffix)).toEqual(['', '_sum', '_count']);
  });

  it.each([
    ['bad{a="b} 1', 1, 'unterminated'],
    ['ok 1\nbad{a="\\x"} 1', 2, 'invalid escape'],
    ['ok 1\n\nm{a="1",a="2"} 1', 3, 'appears twice'],
    ['m 1 2 3', 1, 'unexpected text after the timestamp'],
    ['m one', 1, 'invalid value'],
    ['m 1 1.5', 1, 'invalid timestamp'],
    ['# TYPE m counter\n# TYPE m counter', 2, 'second # TYPE'],
    ['# TYPE m bogus', 1, 'unknown metric type'],
    ['m 1\n# TYPE m gauge', 2, 'after its samples'],
    ['# TYPE h histogram\nh_bucket 1', 2, 'no "le" label'],
    ['# TYPE h histogram\nh_bucket{le="x"} 1', 2, 'not a number'],
    ['{a="b"} 1', 1, 'expected a metric name'],
    ['m{1a="b"} 1', 1, 'expected a label name'],
  ])('rejects %j at line %i (%s)', (text, line, reason) => {
    const err = errorOf(text, TEXT);
    expect(err.line).toBe(line);
    expect(err.message).toContain(reason);
    expect(err.message).toMatch(new RegExp(`^line ${line}: `));
  });

  it('ignores comments that are not HELP or TYPE, and a "# EOF"', () => {
    expect(parseExposition('# hello\n#\n# EOF\nm 1\n', TEXT).families).toHaveLength(1);
  });
});

describe('OpenMetrics 1.0 text', () => {
  it('parses UNIT, _created, exemplars, fractional-second timestamps and # EOF', () => {
    const text = [
      '# TYPE acme_http_router_request_seconds histogram',
      '# UNIT acme_http_router_request_seconds seconds',
      '# HELP acme_http_router_request_seconds Latency "quoted" \\\\ \\n.',
      'acme_http_router_request_seconds_bucket{path="/api/v1",le="0.1"} 7 # {trace_id="KOO5S4vxi0o"} 0.067 1520879607.789',
      'acme_http_router_request_seconds_bucket{path="/api/v1",le="+Inf"} 9 1520879607.5',
      'acme_http_router_request_seconds_sum{path="/api/v1"} 1.5',
      'acme_http_router_request_seconds_count{path="/api/v1"} 9',
      'acme_http_router_request_seconds_created{path="/api/v1"} 1520430000.123',
      '# TYPE foo counter',
      'foo_total 17.0 1520879607.789 # {id="counter-test"} 5',
      'foo_created 1520430000',
      '# EOF',
    ].join('\n');
    const { families, format } = parseExposition(text, OM);
    expect(format).toBe('openmetrics');
    const [h, c] = families;
    expect(h).toMatchObject({ name: 'acme_http_router_request_seconds', type: 'histogram', unit: 'seconds', help: 'Latency "quoted" \\ \n.' });
    expect(h?.samples[0]?.exemplar).toEqual({ labels: [{ name: 'trace_id', value: 'KOO5S4vxi0o' }], value: 0.067, timeNs: 1520879607789000000n });
    expect(h?.samples[1]).toMatchObject({ value: 9, timeNs: 1520879607500000000n });
    expect(h?.samples.map((s) => s.suffix)).toEqual(['_bucket', '_bucket', '_sum', '_count', '_created']);
    expect(c?.samples[0]).toMatchObject({ name: 'foo_total', suffix: '_total', value: 17, exemplar: { labels: [{ name: 'id', value: 'counter-test' }], value: 5 } });
    expect(c?.samples[1]).toMatchObject({ suffix: '_created', value: 1520430000 });
  });

  it('accepts counter families named with _total (client_golang) and unknown families without metadata', () => {
    const { families } = parseExposition('# TYPE a_total counter\na_total 1\nb 2\nb{x="y"} 3\n# EOF\n', OM);
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['a_total', 'counter', 1],
      ['b', 'unknown', 2],
    ]);
  });

  it.each([
    ['m 1\n', 2, 'missing "# EOF"'],
    ['m 1\n# EOF\nm 2\n', 3, 'after "# EOF"'],
    ['m 1\n\n# EOF', 2, 'empty line'],
    ['# random comment\n# EOF', 1, 'only # HELP'],
    ['m  1\n# EOF', 1, 'single space'],
    ['m{a="b",} 1\n# EOF', 1, 'expected a label name'],
    ['# TYPE c counter\nc 1\n# EOF', 2, 'does not belong'],
    ['# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF', 5, 'interleaved'],
    ['# TYPE g gauge\ng 1 # {a="b"} 1\n# EOF', 2, 'only counter totals and histogram buckets'],
    ['# TYPE c_seconds counter\n# UNIT c_seconds bytes\n# EOF', 2, 'does not end in _bytes'],
    [`# TYPE c counter\nc_total 1 # {a="${'x'.repeat(130)}"} 1\n# EOF`, 2, 'at most 128'],
    ['# TYPE c counter\nc_total 1 1e999999\n# EOF', 2, 'invalid timestamp'],
  ])('rejects %j at line %i (%s)', (text, line, reason) => {
    const err = errorOf(text, OM);
    expect(err.line).toBe(line);
    expect(err.message).toContain(reason);
  });
});

describe('corpus of real expositions', () => {
  for (const file of readdirSync(CORPUS)) {
    const format: ExpositionFormat = file.includes('.om.') ? OM : TEXT;
    it(`parses ${file}`, () => {
      const exposition = parseExposition(readFileSync(new URL(file, CORPUS), 'utf8'), format);
      expect(exposition.families.length).toBeGreaterThan(5);
      expect(exposition.families.reduce((n, f) => n + f.samples.length, 0)).toBeGreaterThan(20);
    });
  }
});

describe('content negotiation', () => {
  it('reads OpenMetrics only when the target says so, 0.0.4 otherwise', () => {
    expect(formatOfContentType('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe('openmetrics');
    expect(formatOfContentType('text/plain; version=0.0.4')).toBe('prometheus-text');
    expect(formatOfContentType(null)).toBe('prometheus-text');
  });
});
