import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../../src/receivers/prometheus/parse.js';
import { StartTimes } from '../../../../src/receivers/prometheus/start-times.js';
import { scrapeToOtlp, RECEIVER_SCOPE } from '../../../../src/receivers/prometheus/to-otlp.js';
import { otelUnit } from '../../../../src/receivers/prometheus/units.js';
import type { ExpositionFormat } from '../../../../src/receivers/prometheus/exposition.js';
import { allMetrics, attrs, metricNamed, pointWith } from '../../../helpers/metrics-sink.js';

const T = 1_764_000_000_000_000_000n;
const URL_ = new URL('http://app.local:8000/metrics');

function map(text: string, format: ExpositionFormat = 'prometheus-text', startTimes = new StartTimes(), timeNs = T) {
  return scrapeToOtlp({ job: 'app', url: URL_, timeNs, durationSeconds: 0.01, exposition: parseExposition(text, format) }, startTimes);
}

describe('Prometheus → OTLP mapping edge cases', () => {
  it('target_info labels become resource attributes; otel_scope_* labels pick the scope (otel_scope_info adds its attributes)', () => {
    const m = map(
      [
        '# TYPE target info',
        'target_info{env="prod",region="eu"} 1',
        '# TYPE otel_scope info',
        'otel_scope_info{otel_scope_name="lib",otel_scope_version="1.2",mascot="bear"} 1',
        '# TYPE reqs counter',
        'reqs_total{otel_scope_name="lib",otel_scope_version="1.2",path="/"} 5',
        'reqs_total{path="/x"} 2',
        '# EOF',
      ].join('\n'),
      'openmetrics',
    );
    const rm = m.request.resourceMetrics[0];
    expect(attrs(rm?.resource.attributes ?? [])).toMatchObject({ 'service.name': 'app', 'service.instance.id': 'app.local:8000', 'server.port': '8000', env: 'prod', region: 'eu' });
    const scopes = rm?.scopeMetrics ?? [];
    const lib = scopes.find((s) => s.scope.name === 'lib');
    expect(lib?.scope).toEqual({ name: 'lib', version: '1.2', attributes: [{ key: 'mascot', value: { stringValue: 'bear' } }] });
    expect(attrs(pointWith(lib?.metrics[0] as never).attributes)).toEqual({ path: '/' });
    expect(scopes.find((s) => s.scope.name === RECEIVER_SCOPE)?.metrics.map((x) => x.name)).toEqual(['reqs_total', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    expect(allMetrics(m.request).some((x) => x.name.startsWith('target') || x.name.startsWith('otel_scope'))).toBe(false);
  });

  it('0.0.4 `<base>_created` gauge families (client_python) become start times, not gauges', () => {
    const m = map(
      [
        '# TYPE jobs_total counter',
        'jobs_total{q="a"} 4',
        '# TYPE jobs_created gauge',
        'jobs_created{q="a"} 1.7e9',
        '# TYPE lat histogram',
        'lat_bucket{le="+Inf"} 3',
        'lat_count 3',
        'lat_sum 1',
        '# TYPE lat_created gauge',
        'lat_created 1.6e9',
        '# TYPE other_created gauge',
        'other_created 5',
      ].join('\n'),
    );
    expect(pointWith(metricNamed(m.request, 'jobs_total'), { q: 'a' }).startTimeUnixNano).toBe('1700000000000000000');
    expect(pointWith(metricNamed(m.request, 'lat'))).toMatchObject({ startTimeUnixNano: '1600000000000000000', bucketCounts: ['3'], explicitBounds: [], count: '3' });
    expect(allMetrics(m.request).map((x) => x.name)).toEqual(['jobs_total', 'lat', 'other_created', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
  });

  it('drops invalid points with reasons, keeps the rest', () => {
    const m = map(
      [
        '# TYPE h histogram',
        'h_bucket{a="nocount",le="+Inf"} 1',
        'h_bucket{a="noinf",le="1"} 1',
        'h_count{a="noinf"} 1',
        'h_bucket{a="decreasing",le="1"} 5',
        'h_bucket{a="decreasing",le="+Inf"} 4',
        'h_count{a="decreasing"} 4',
        'h_bucket{a="mismatch",le="+Inf"} 4',
        'h_count{a="mismatch"} 5',
        'h_bucket{a="ok",le="0.5"} 1',
        'h_bucket{a="ok",le="+Inf"} 2',
        'h_count{a="ok"} 2',
        '# TYPE c counter',
        'c{a="neg"} -1',
        'c{a="nan"} NaN',
        'c{a="ok"} 1',
        '# TYPE g gauge',
        'g NaN',
        '# TYPE s summary',
        's_sum 1',
      ].join('\n'),
    );
    expect(m.dropped).toBe(7);
    expect(m.problems.join('\n')).toMatch(/no _count sample[\s\S]*no le="\+Inf" bucket[\s\S]*not a cumulative count[\s\S]*differs from _count[\s\S]*non-negative number, not -1[\s\S]*not NaN[\s\S]*summary needs/);
    expect(pointWith(metricNamed(m.request, 'h'), { a: 'ok' })).toMatchObject({ bucketCounts: ['1', '1'], explicitBounds: [0.5] });
    expect(pointWith(metricNamed(m.request, 'g')).asDouble).toBe('NaN');
    expect(m.points).toBe(3);
  });

  it('gaugehistograms are dropped; info and stateset become non-monotonic sums; unknown becomes a gauge', () => {
    const m = map(
      [
        '# TYPE gh gaugehistogram',
        'gh_gbucket{le="+Inf"} 1',
        'gh_gcount 1',
        '# TYPE build info',
        'build_info{version="1.0"} 1',
        '# TYPE feature stateset',
        'feature{feature="a"} 1',
        'mystery 3',
        '# EOF',
      ].join('\n'),
      'openmetrics',
    );
    expect(allMetrics(m.request).some((x) => x.name === 'gh')).toBe(false);
    const build = metricNamed(m.request, 'build_info');
    expect('sum' in build && build.sum).toMatchObject({ isMonotonic: false, aggregationTemporality: 2 });
    expect('sum' in metricNamed(m.request, 'feature')).toBe(true);
    const mystery = metricNamed(m.request, 'mystery');
    expect('gauge' in mystery).toBe(true);
    expect(mystery.metadata).toEqual([{ key: 'prometheus.type', value: { stringValue: 'unknown' } }]);
  });

  it('sample timestamps are kept; invalid exemplar ids stay attributes', () => {
    const m = map('# TYPE c counter\nc_total 3 1700000000.25 # {trace_id="nothex",span_id="00f067aa0ba902b7"} 1\n# EOF\n', 'openmetrics');
    const p = pointWith(metricNamed(m.request, 'c_total'));
    expect(p.timeUnixNano).toBe('1700000000250000000');
    expect(p.exemplars).toEqual([{ timeUnixNano: '1700000000250000000', asDouble: 1, spanId: '00f067aa0ba902b7', filteredAttributes: [{ key: 'trace_id', value: { stringValue: 'nothex' } }] }]);
  });

  it('a series that disappears and comes back starts a new unknown-start sequence', () => {
    const st = new StartTimes();
    const scrape = (text: string, t: bigint) => {
      st.beginScrape();
      const r = map(text, 'prometheus-text', st, t);
      st.endScrape();
      return r;
    };
    scrape('# TYPE c counter\nc{a="1"} 1\n', T);
    scrape('# TYPE c counter\nc{a="2"} 1\n', T + 10n);
    const back = scrape('# TYPE c counter\nc{a="1"} 5\n', T + 20n);
    expect(pointWith(metricNamed(back.request, 'c'), { a: '1' }).startTimeUnixNano).toBe(String(T + 20n));
    expect(st.size).toBe(1);
  });

  it('converts # UNIT to OTel units', () => {
    expect(['seconds', 'milliseconds', 'bytes', 'ratio', 'bytes_per_second', 'requests', ''].map(otelUnit)).toEqual(['s', 'ms', 'By', '1', 'By/s', 'requests', '']);
  });
});
