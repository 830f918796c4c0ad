/**
 * Query text → a statement shape, so calls that differ only in literals group together (the way
 * pg_stat_statements and the OTel sanitisers do): comments dropped, string/number/hex/boolean literals
 * and `$n` placeholders → `?`, `IN (?, ?, …)` and multi-row `VALUES (…), (…)` collapsed, whitespace
 * collapsed. Double-quoted text stays (identifiers in standard SQL). Redis-style `GET user:42` becomes
 * `GET user:?`.
 */
import type { TraceSpan } from '../model/trace.js';
import { Attr, attrString } from './semconv.js';

const MAX_STATEMENT = 300;

/**
 * One regex pass with a replacer, so each character is looked at once (a char-by-char scanner in JS
 * measured slower). Alternatives, leftmost first: comments, single-quoted strings, double-quoted names
 * (kept whole, so digits in them stay), placeholders, hex, numbers not glued to a name, booleans,
 * whitespace runs.
 */
const TOKENS = /--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'?|"[^"]*"?|\$\d+|\b0x[0-9a-f]+\b|(?<![\w.$])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w"])|\b(?:true|false)\b|\s+/gi;

export function normalizeStatement(text: string): string {
  let s = text.replace(TOKENS, (t) => {
    const c = t.charCodeAt(0);
    if (c === 34 /* " */) return t;
    if (c <= 32) return ' ';
    if ((c === 45 /* - */ && t.charCodeAt(1) === 45) || (c === 47 /* / */ && t.charCodeAt(1) === 42)) return ' ';
    return '?';
  }).replace(/ {2,}/g, ' ').trim();
  s = s.replace(/\b(IN)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)/gi, (_m, keyword: string) => `${keyword} (?)`);
  s = s.replace(/(\(\s*\?(?:\s*,\s*\?)*\s*\))(?:\s*,\s*\(\s*\?(?:\s*,\s*\?)*\s*\))+/g, '$1');
  return s.length > MAX_STATEMENT ? `${s.slice(0, MAX_STATEMENT)}…` : s;
}

export interface DbCall {
  system: string;
  /** Normalised statement, or the best shape available without one. */
  statement: string;
  /** Which attribute the statement came from. */
  source: 'query' | 'summary' | 'operation' | 'span_name';
}

/**
 * The DB identity of a span, or null when it is not a database call (no db.system / query attribute).
 * `memo` caches normalised texts across the spans of one analysis (the same raw query recurs a lot).
 */
export function dbCallOf(span: TraceSpan, memo?: Map<string, string>): DbCall | null {
  const system = attrString(span, Attr.dbSystem);
  const query = attrString(span, Attr.dbQuery);
  if (system === undefined && query === undefined) return null;
  const sys = system ?? 'unknown';
  if (query !== undefined) {
    let statement = memo?.get(query);
    if (statement === undefined) {
      statement = normalizeStatement(query);
      if (memo && memo.size < 100_000) memo.set(query, statement);
    }
    return { system: sys, statement, source: 'query' };
  }
  const summary = attrString(span, Attr.dbQuerySummary);
  if (summary !== undefined) return { system: sys, statement: summary, source: 'summary' };
  const op = attrString(span, Attr.dbOperation);
  if (op !== undefined) {
    const target = attrString(span, Attr.dbCollection);
    return { system: sys, statement: target === undefined ? op : `${op} ${target}`, source: 'operation' };
  }
  return { system: sys, statement: span.name, source: 'span_name' };
}
