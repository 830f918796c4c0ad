import type { Labels } from '../model/metric.js';
import type { LabelMatcher, MatchOp, MetricSelection } from './metric-source.js';

export class SelectorError extends Error {}

const MAX_REGEX_LENGTH = 512;

/** True when the labels satisfy every matcher (a missing label reads as ''; regexes are anchored). */
export function matchesAll(labels: Labels, matchers: readonly LabelMatcher[], cache = new Map<string, RegExp>()): boolean {
  for (const m of matchers) {
    const v = labels[m.label] ?? '';
    let ok: boolean;
    switch (m.op) {
      case '=':
        ok = v === m.value;
        break;
      case '!=':
        ok = v !== m.value;
        break;
      case '=~':
        ok = regex(m.value, cache).test(v);
        break;
      case '!~':
        ok = !regex(m.value, cache).test(v);
        break;
    }
    if (!ok) return false;
  }
  return true;
}

function regex(source: string, cache: Map<string, RegExp>): RegExp {
  let re = cache.get(source);
  if (!re) {
    re = compileMatcherRegex(source);
    cache.set(source, re);
  }
  return re;
}

/** Anchored like Prometheus (`^(?:re)$`); throws SelectorError on an invalid or over-long pattern. */
export function compileMatcherRegex(source: string): RegExp {
  if (source.length > MAX_REGEX_LENGTH) throw new SelectorError(`regex longer than ${MAX_REGEX_LENGTH} characters`);
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    throw new SelectorError(`invalid regex "${source}": ${(err as Error).message}`);
  }
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:./-]*/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_.:/-]*/;
const OPS: MatchOp[] = ['=~', '!~', '!=', '='];

/**
 * Parses a PromQL-style selector: `name`, `name{label="v",other!~"re.*"}`. Label names may contain dots
 * (OTel attribute keys such as service.name). Values are double-quoted with backslash escapes.
 */
export function parseSelector(text: string): MetricSelection {
  let rest = text.trim();
  const name = NAME.exec(rest);
  if (!name) throw new SelectorError(`selector "${text}" must start with a metric name, e.g. cache_hits_total{level="L1"}`);
  const metric = name[0];
  rest = rest.slice(metric.length).trim();
  const matchers: LabelMatcher[] = [];
  if (rest === '') return { metric, matchers };
  if (!rest.startsWith('{') || !rest.endsWith('}')) throw new SelectorError(`selector "${text}": label matchers go in {…}`);
  rest = rest.slice(1, -1).trim();
  while (rest !== '') {
    const label = LABEL.exec(rest);
    if (!label) throw new SelectorError(`selector "${text}": expected a label name at "${rest}"`);
    rest = rest.slice(label[0].length).trim();
    const op = OPS.find((o) => rest.startsWith(o));
    if (!op) throw new SelectorError(`selector "${text}": expected =, !=, =~ or !~ after ${label[0]}`);
    rest = rest.slice(op.length).trim();
    const value = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
    if (!value) throw new SelectorError(`selector "${text}": the value of ${label[0]} must be double-quoted`);
    const unescaped = (value[1] as string).replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    if (op === '=~' || op === '!~') compileMatcherRegex(unescaped);
    matchers.push({ label: label[0], op, value: unescaped });
    rest = rest.slice(value[0].length).trim();
    if (rest.startsWith(',')) rest = rest.slice(1).trim();
    else if (rest !== '') throw new SelectorError(`selector "${text}": expected , between matchers`);
  }
  return { metric, matchers };
}
