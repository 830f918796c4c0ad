import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../../src/receivers/prometheus/parse.js';
import {
  ExpositionParseError,
  type ExpositionFormat,
  type FamilyType,
  type Label,
  type MetricFamily,
  type Sample,
} from '../../../../src/receivers/prometheus/exposition.js';
import { writeExposition } from '../../../helpers/exposition-writer.js';

/**
 * Fuzzing the exposition parser: it must never throw anything but ExpositionParseError (random text,
 * and a seeded mutation corpus over real expositions), and parse ∘ write is the identity on generated
 * valid expositions. Inputs that once broke it live in test/fixtures/prometheus/regressions/.
 */
const FIXTURES = new URL('../../../fixtures/prometheus/', import.meta.url);
const FORMATS: ExpositionFormat[] = ['prometheus-text', 'openmetrics'];
const SEED = 20261125;

function parsesOrRejectsCleanly(text: string, format: ExpositionFormat): void {
  try {
    parseExposition(text, format);
  } catch (err) {
    if (!(err instanceof ExpositionParseError)) throw err;
    expect(err.line).toBeGreaterThanOrEqual(1);
  }
}

const ALPHABET = ['{', '}', '"', ',', '=', '\\', ' ', '\t', '#', '\n', '\r', '+', '-', '.', 'e', 'Inf', 'NaN', '0', '9', '_', 'a', 'le', 'é', '\u0000', '# EOF', '_total', '_bucket'];

describe('parser fuzz: only ExpositionParseError escapes', () => {
  it.each(FORMATS)('random text (%s)', (format) => {
    const tokens = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 60 }).map((t) => t.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), tokens), (text) => parsesOrRejectsCleanly(text, format)),
      { seed: SEED, numRuns: 1500 },
    );
  });

  const corpus = readdirSync(new URL('corpus/', FIXTURES)).map((file) => ({
    file,
    format: (file.includes('.om.') ? 'openmetrics' : 'prometheus-text') as ExpositionFormat,
    text: readFileSync(new URL(`corpus/${file}`, FIXTURES), 'utf8'),
  }));
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), what: fc.constantFrom(...ALPHABET) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('dupline' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('swaplines' as const), at: fc.nat(), other: fc.nat() }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
  function mutate(text: string, m: Mutation): string {
    const at = m.at % (text.length + 1);
    if (m.kind === 'insert') return text.slice(0, at) + m.what + text.slice(at);
    if (m.kind === 'delete') return text.slice(0, at) + text.slice(at + m.length);
    if (m.kind === 'truncate') return text.slice(0, at);
    const lines = text.split('\n');
    const i = m.at % lines.length;
    if (m.kind === 'dupline') lines.splice(i, 0, lines[i] as string);
    else {
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
    }
    return lines.join('\n');
  }

  it.each(corpus.map((c) => [c.file, c] as const))('seeded mutations of %s', (_file, c) => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const text = ms.reduce(mutate, c.text);
        parsesOrRejectsCleanly(text, c.format);
        parsesOrRejectsCleanly(text, c.format === 'openmetrics' ? 'prometheus-text' : 'openmetrics');
      }),
      { seed: SEED, numRuns: 250 },
    );
  });

  it('regression corpus: each file parses, or fails with the recorded line', () => {
    const dir = new URL('regressions/', FIXTURES);
    for (const file of readdirSync(dir)) {
      const m = /^(.*)\.(prom|om)\.(ok|err-(\d+))\.txt$/.exec(file);
      if (!m) throw new Error(`regression file ${file} must be NAME.(prom|om).(ok|err-LINE).txt`);
      const format: ExpositionFormat = m[2] === 'om' ? 'openmetrics' : 'prometheus-text';
      const text = readFileSync(new URL(file, dir), 'utf8');
      if (m[3] === 'ok') expect(() => parseExposition(text, format), file).not.toThrow();
      else {
        expect(() => parseExposition(text, format), file).toThrow(ExpositionParseError);
        try {
          parseExposition(text, format);
        } catch (err) {
          expect((err as ExpositionParseError).line, file).toBe(Number(m[4]));
        }
      }
    }
  });
});

// ---- generated valid expositions -----------------------------------------------------------------

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== 'le' && n !== 'quantile');
const labelValue = fc.string({ unit: 'grapheme', maxLength: 12 });
const labelSet = fc.uniqueArray(fc.record({ name: labelName, value: labelValue }), { selector: (l) => l.name, maxLength: 3 });
const value = fc.double().map((v) => (Object.is(v, -0) ? 0 : v));
const count = fc.integer({ min: 0, max: 1e9 });

function familyArb(format: ExpositionFormat, index: number): fc.Arbitrary<MetricFamily> {
  const om = format === 'openmetrics';
  const types: FamilyType[] = om
    ? ['counter', 'gauge', 'unknown', 'histogram', 'summary', 'info', 'stateset', 'gaugehistogram']
    : ['counter', 'gauge', 'untyped', 'histogram', 'summary'];
  const timeNs = om
    ? fc.option(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 19n }), { nil: undefined })
    : fc.option(fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }).map((ms) => ms * 1_000_000n), { nil: undefined });
  const exemplar = fc.option(
    fc.record({
      labels: fc.uniqueArray(fc.record({ name: labelName, value: fc.string({ maxLength: 10 }) }), { selector: (l) => l.name, maxLength: 3 }),
      value,
    }),
    { nil: undefined },
  );
  const help = fc.option(
    fc.string({ unit: 'grapheme', maxLength: 30 }).filter((h) => om || (!/^[ \t]/.test(h) && !h.endsWith('\r'))),
    { nil: undefined },
  );
  return fc
    .record({
      type: fc.constantFrom(...types),
      typed: fc.boolean(),
      base: fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/),
      unit: om ? fc.option(fc.constantFrom('seconds', 'bytes'), { nil: undefined }) : fc.constant(undefined),
      help,
      series: fc.uniqueArray(labelSet, { selector: (ls) => ls.map((l) => l.name).sort().join(), minLength: 1, maxLength: 3 }),
      bounds: fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 }),
      v: value,
      c: count,
      t: timeNs,
      e: exemplar,
    })
    .map(({ type, typed, base, unit, help, series, bounds, v, c, t, e }) => {
      const isUnknown = type === 'unknown' || type === 'untyped';
      const name = `f${index}_${base}${unit ? `_${unit}` : ''}`;
      const family: MetricFamily = { name, type, typed: isUnknown ? typed : true, samples: [] };
      if (help !== undefined) family.help = help;
      if (unit !== undefined && type !== 'info' && type !== 'stateset') family.unit = unit;
      const add = (suffix: string, labels: Label[], val: number, withExtras = false): void => {
        const s: Sample = { name: name + suffix, suffix, labels, value: val, line: 0 };
        if (t !== undefined) s.timeNs = t;
        if (withExtras && om && e) s.exemplar = e;
        family.samples.push(s);
      };
      const les = [...bounds.sort((a, b) => a - b).map((b) => String(Object.is(b, -0) ? 0 : b)), '+Inf'];
      const uniqueLes = [...new Set(les)];
      for (const ls of series) {
        switch (type) {
          case 'counter':
            add(om ? '_total' : '', ls, Math.abs(v) || 0, true);
            if (om) add('_created', ls, c);
            break;
          case 'histogram':
          case 'gaugehistogram': {
            const g = type === 'gaugehistogram' ? '_g' : '_';
            uniqueLes.forEach((le, i) => add(`${g}bucket`, [...ls, { name: 'le', value: le }], c + i, i === 0));
            add(`${g}sum`, ls, v);
            add(`${g}count`, ls, c + uniqueLes.length - 1);
            break;
          }
          case 'summary':
            add('', [...ls, { name: 'quantile', value: '0.5' }], v);
            add('_sum', ls, v);
            add('_count', ls, c);
            break;
          case 'info':
            add('_info', ls, 1);
            break;
          default:
            add('', ls, v);
        }
      }
      return family;
    });
}

function expositionArb(format: ExpositionFormat): fc.Arbitrary<MetricFamily[]> {
  return fc.integer({ min: 0, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => familyArb(format, i))));
}

function withoutLines(families: MetricFamily[]): unknown {
  return families.map((f) => ({ ...f, samples: f.samples.map(({ line: _line, ...s }) => s) }));
}

describe('parser round trip: parse(write(x)) = x', () => {
  it.each(FORMATS)('%s', (format) => {
    fc.assert(
      fc.property(expositionArb(format), (families) => {
        const text = writeExposition(families, format);
        const parsed = parseExposition(text, format);
        expect(withoutLines(parsed.families)).toEqual(withoutLines(families));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
