import {
  ExpositionParseError,
  SUFFIXES,
  type Exemplar,
  type Exposition,
  type ExpositionFormat,
  type FamilyType,
  type Label,
  type MetricFamily,
  type Sample,
} from './exposition.js';
import { millisToNanos, parseNumber, secondsToNanos } from './numbers.js';

const OM_TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']);
const TEXT_TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** OpenMetrics bounds an exemplar's label set to 128 UTF-8 characters (names and values together). */
const MAX_EXEMPLAR_LABEL_CHARS = 128;
const TYPE_SUFFIXES = new Set(['', '_total', '_created', '_bucket', '_count', '_sum', '_gbucket', '_gcount', '_gsum', '_info']);

/**
 * Parses a whole exposition. Strict where the format is (OpenMetrics: single spaces, no blank lines,
 * `# EOF` last, families not interleaved, exemplars only on counters and buckets); as lenient as
 * Prometheus' own 0.0.4 parser where that one is (blanks, tabs, trailing commas, `\r\n`).
 * Throws only ExpositionParseError, whose message carries the 1-based line number.
 */
export function parseExposition(text: string, format: ExpositionFormat): Exposition {
  return new Parser(text, format).run();
}

class Parser {
  private readonly om: boolean;
  private readonly families: MetricFamily[] = [];
  private readonly byName = new Map<string, MetricFamily>();
  private current: MetricFamily | undefined;
  private lineNo = 0;
  private line = '';
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly format: ExpositionFormat,
  ) {
    this.om = format === 'openmetrics';
  }

  run(): Exposition {
    const text = this.text;
    let start = 0;
    let sawEof = false;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      this.lineNo++;
      this.line = text.slice(start, end);
      this.i = 0;
      start = end + 1;
      if (this.om) {
        if (sawEof) this.fail('content after "# EOF"');
        if (this.line === '# EOF') {
          sawEof = true;
          continue;
        }
        if (this.line === '') this.fail('empty line (OpenMetrics allows none)');
        if (this.line.charCodeAt(0) === 35 /* # */) this.omComment();
        else this.sample();
      } else {
        if (this.line.endsWith('\r')) this.line = this.line.slice(0, -1);
        this.skipBlanks();
        if (this.i === this.line.length) continue;
        if (this.line.charCodeAt(this.i) === 35) this.textComment();
        else this.sample();
      }
    }
    if (this.om && !sawEof) {
      throw new ExpositionParseError(this.lineNo + 1, 'missing "# EOF" (an OpenMetrics exposition must end with it)');
    }
    return { format: this.format, families: this.families };
  }

  private fail(reason: string): never {
    throw new ExpositionParseError(this.lineNo, reason);
  }

  // ---- metadata ----------------------------------------------------------------------------------

  private textComment(): void {
    this.i++; // '#'
    this.skipBlanks();
    const keyword = this.token();
    if (keyword !== 'HELP' && keyword !== 'TYPE') return; // any other comment is ignored in 0.0.4
    this.skipBlanks();
    const name = this.metricName('a metric name after # ' + keyword);
    const family = this.familyForMetadata(name);
    if (keyword === 'TYPE') {
      this.skipBlanks();
      const type = this.token().toLowerCase();
      if (!TEXT_TYPES.has(type)) this.fail(`unknown metric type "${type}" for ${name}`);
      this.skipBlanks();
      if (this.i !== this.line.length) this.fail(`unexpected text after the type of ${name}`);
      this.setType(family, type as FamilyType);
    } else {
      if (this.i < this.line.length && !this.isBlank()) this.fail(`expected a blank after the metric name ${name}`);
      this.skipBlanks();
      this.setHelp(family, this.escaped(this.line.length, false, 'HELP text'));
    }
  }

  private omComment(): void {
    const line = this.line;
    const keyword = line.startsWith('# HELP ') ? 'HELP' : line.startsWith('# TYPE ') ? 'TYPE' : line.startsWith('# UNIT ') ? 'UNIT' : '';
    if (keyword === '') this.fail('OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF comment lines');
    this.i = 7;
    const name = this.metricName('a metric family name');
    const family = this.familyForMetadata(name);
    const rest = this.i === line.length ? undefined : line.charCodeAt(this.i) === 32 ? line.slice(this.i + 1) : this.fail(`expected a space after ${name}`);
    if (keyword === 'HELP') {
      this.i = rest === undefined ? line.length : this.i + 1;
      this.setHelp(family, this.escaped(line.length, true, 'HELP text'));
    } else if (keyword === 'TYPE') {
      if (rest === undefined || !OM_TYPES.has(rest)) this.fail(`unknown metric type "${rest ?? ''}" for ${name}`);
      this.setType(family, rest as FamilyType);
    } else {
      const unit = rest ?? '';
      if (!/^[a-zA-Z0-9_:]*$/.test(unit)) this.fail(`invalid unit "${unit}" for ${name}`);
      if (family.unit !== undefined) this.fail(`second # UNIT line for ${name}`);
      if (unit !== '' && !name.endsWith(`_${unit}`)) this.fail(`family ${name} has unit "${unit}" but its name does not end in _${unit}`);
      family.unit = unit;
    }
  }

  private familyForMetadata(name: string): MetricFamily {
    const existing = this.om ? (this.current?.name === name ? this.current : undefined) : this.byName.get(name);
    if (existing) {
      if (existing.samples.length > 0) this.fail(`metadata for ${name} after its samples`);
      return existing;
    }
    if (this.byName.has(name)) this.fail(`metric family ${name} appears twice (families must not be interleaved)`);
    return this.newFamily(name);
  }

  private newFamily(name: string): MetricFamily {
    const family: MetricFamily = { name, type: this.om ? 'unknown' : 'untyped', typed: false, samples: [] };
    this.families.push(family);
    this.byName.set(name, family);
    this.current = family;
    return family;
  }

  private setType(family: MetricFamily, type: FamilyType): void {
    if (family.typed) this.fail(`second # TYPE line for ${family.name}`);
    family.type = type;
    family.typed = true;
  }

  private setHelp(family: MetricFamily, help: string): void {
    if (family.help !== undefined) this.fail(`second # HELP line for ${family.name}`);
    family.help = help;
  }

  // ---- samples -----------------------------------------------------------------------------------

  private sample(): void {
    const lineNo = this.lineNo;
    const name = this.metricName('a metric name');
    const afterName = this.i;
    if (!this.om) this.skipBlanks();
    const hasLabels = this.line.charCodeAt(this.i) === 123; /* { */
    if (!hasLabels) this.i = afterName;
    const labels = hasLabels ? this.labels() : [];
    if (this.om || labels.length === 0 || this.isBlank()) this.separator('the value');
    const value = this.number(this.token(), 'value');
    const sample: Sample = { name, suffix: '', labels, value, line: lineNo };
    if (this.om) {
      if (this.i < this.line.length) {
        this.separator('a timestamp or exemplar');
        if (this.line.charCodeAt(this.i) !== 35) sample.timeNs = this.timestamp();
        if (this.i < this.line.length) {
          if (sample.timeNs !== undefined) this.separator('an exemplar');
          sample.exemplar = this.exemplar();
        }
      }
    } else {
      this.skipBlanks();
      if (this.i < this.line.length) {
        sample.timeNs = this.timestamp();
        this.skipBlanks();
        if (this.i < this.line.length) this.fail(`unexpected text after the timestamp of ${name}`);
      }
    }
    this.attach(sample);
  }

  private attach(sample: Sample): void {
    const family = this.om ? this.omFamilyOf(sample.name) : this.textFamilyOf(sample.name);
    sample.suffix = sample.name.slice(family.name.length);
    const type = family.type;
    if ((type === 'histogram' || type === 'gaugehistogram') && sample.suffix.endsWith('bucket')) {
      this.numericLabel(sample, 'le');
    } else if (type === 'summary' && sample.suffix === '') {
      this.numericLabel(sample, 'quantile');
    }
    const totalOrBucket = (type === 'counter' && sample.suffix !== '_created') || sample.suffix.endsWith('bucket');
    if (sample.exemplar && !totalOrBucket) {
      this.fail(`exemplar on ${sample.name}: only counter totals and histogram buckets may carry exemplars`);
    }
    family.samples.push(sample);
  }

  private omFamilyOf(name: string): MetricFamily {
    const current = this.current;
    if (current && fits(current, name, 'openmetrics')) return current;
    if (current?.typed && name.startsWith(current.name) && TYPE_SUFFIXES.has(name.slice(current.name.length))) {
      this.fail(`sample ${name} does not belong to the ${current.type} family ${current.name}`);
    }
    if (this.byName.has(name)) this.fail(`metric family ${name} appears twice (families must not be interleaved)`);
    return this.newFamily(name);
  }

  private textFamilyOf(name: string): MetricFamily {
    const exact = this.byName.get(name);
    if (exact && fits(exact, name, 'prometheus-text')) return exact;
    for (const suffix of ['_bucket', '_count', '_sum']) {
      if (!name.endsWith(suffix)) continue;
      const base = this.byName.get(name.slice(0, -suffix.length));
      if (base && fits(base, name, 'prometheus-text')) return base;
    }
    if (exact) this.fail(`sample ${name} does not fit its ${exact.type} family`);
    return this.newFamily(name);
  }

  private numericLabel(sample: Sample, label: string): void {
    const found = sample.labels.find((l) => l.name === label);
    if (!found) this.fail(`${sample.name} has no "${label}" label`);
    if (parseNumber(found.value) === undefined) this.fail(`${sample.name} has ${label}="${found.value}", not a number`);
  }

  private labels(): Label[] {
    const labels: Label[] = [];
    const line = this.line;
    this.i++; // '{'
    for (;;) {
      if (!this.om) this.skipBlanks();
      if (line.charCodeAt(this.i) === 125 /* } */ && (labels.length === 0 || !this.om)) break;
      const start = this.i;
      while (this.i < line.length && isLabelChar(line.charCodeAt(this.i), this.i === start)) this.i++;
      if (this.i === start) this.fail(`expected a label name at column ${this.i + 1}`);
      const name = line.slice(start, this.i);
      if (!this.om) this.skipBlanks();
      if (line.charCodeAt(this.i) !== 61 /* = */) this.fail(`expected "=" after label ${name}`);
      this.i++;
      if (!this.om) this.skipBlanks();
      if (line.charCodeAt(this.i) !== 34 /* " */) this.fail(`expected a quoted value for label ${name}`);
      this.i++;
      const value = this.escaped(-1, true, `the value of label ${name}`);
      if (labels.some((l) => l.name === name)) this.fail(`label ${name} appears twice`);
      labels.push({ name, value });
      if (!this.om) this.skipBlanks();
      const c = line.charCodeAt(this.i);
      if (c === 44 /* , */) {
        this.i++;
        continue;
      }
      if (c === 125) break;
      this.fail(`expected "," or "}" after label ${name}`);
    }
    this.i++; // '}'
    return labels;
  }

  private exemplar(): Exemplar {
    const line = this.line;
    if (!line.startsWith('# {', this.i)) this.fail('expected an exemplar ("# {labels} value [timestamp]")');
    this.i += 2;
    const labels = this.labels();
    let chars = 0;
    for (const l of labels) chars += [...l.name].length + [...l.value].length;
    if (chars > MAX_EXEMPLAR_LABEL_CHARS) this.fail(`exemplar labels are ${chars} characters long (at most ${MAX_EXEMPLAR_LABEL_CHARS})`);
    this.separator('the exemplar value');
    const exemplar: Exemplar = { labels, value: this.number(this.token(), 'exemplar value') };
    if (this.i < line.length) {
      this.separator('the exemplar timestamp');
      exemplar.timeNs = this.timestamp();
      if (this.i < line.length) this.fail('unexpected text after the exemplar');
    }
    return exemplar;
  }

  // ---- tokens ------------------------------------------------------------------------------------

  /** Reads an escaped string up to `end` (HELP) or up to the closing quote (end = -1, label values). */
  private escaped(end: number, quoteEscape: boolean, what: string): string {
    const line = this.line;
    const stop = end === -1 ? line.length : end;
    let out = '';
    let chunk = this.i;
    while (this.i < stop) {
      const c = line.charCodeAt(this.i);
      if (c === 34 && end === -1) {
        out += line.slice(chunk, this.i);
        this.i++;
        return out;
      }
      if (c === 92 /* \ */) {
        out += line.slice(chunk, this.i);
        const next = line.charCodeAt(this.i + 1);
        if (next === 92) out += '\\';
        else if (next === 110 /* n */) out += '\n';
        else if (next === 34 && quoteEscape) out += '"';
        else this.fail(`invalid escape sequence "\\${line[this.i + 1] ?? ''}" in ${what}`);
        this.i += 2;
        chunk = this.i;
        continue;
      }
      this.i++;
    }
    if (end === -1) this.fail(`unterminated quoted string in ${what}`);
    return out + line.slice(chunk, this.i);
  }

  private metricName(what: string): string {
    const line = this.line;
    const start = this.i;
    while (this.i < line.length && isMetricChar(line.charCodeAt(this.i), this.i === start)) this.i++;
    if (this.i === start) this.fail(`expected ${what} at column ${start + 1}`);
    return line.slice(start, this.i);
  }

  /** Text up to the next blank (0.0.4) or space (OpenMetrics). */
  private token(): string {
    const line = this.line;
    const start = this.i;
    while (this.i < line.length && !this.isBlank()) this.i++;
    return line.slice(start, this.i);
  }

  private number(text: string, what: string): number {
    const value = parseNumber(text);
    if (value === undefined) this.fail(`invalid ${what} "${text}"`);
    return value;
  }

  private timestamp(): bigint {
    const text = this.token();
    const ns = this.om ? secondsToNanos(text) : millisToNanos(text);
    if (ns === undefined) this.fail(`invalid timestamp "${text}"`);
    return ns;
  }

  /** OpenMetrics: exactly one space. 0.0.4: one or more blanks. */
  private separator(what: string): void {
    if (this.i >= this.line.length || !this.isBlank()) this.fail(`expected a space before ${what}`);
    this.i++;
    if (!this.om) this.skipBlanks();
    else if (this.i >= this.line.length || this.isBlank()) this.fail(`expected ${what} after a single space`);
  }

  private isBlank(): boolean {
    const c = this.line.charCodeAt(this.i);
    return c === 32 || (!this.om && c === 9);
  }

  private skipBlanks(): void {
    while (this.i < this.line.length && this.isBlank()) this.i++;
  }
}

function fits(family: MetricFamily, name: string, format: ExpositionFormat): boolean {
  if (!name.startsWith(family.name)) return false;
  // client_golang names OpenMetrics counter families with their _total and exposes the sample as is.
  if (format === 'openmetrics' && family.type === 'counter' && name === family.name && name.endsWith('_total')) return true;
  return SUFFIXES[format][family.type].includes(name.slice(family.name.length));
}

function isMetricChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (!first && c >= 48 && c <= 57);
}

function isLabelChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (!first && c >= 48 && c <= 57);
}
