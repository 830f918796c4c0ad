/**
 * The text side of redaction: deny-listed keys, secret-shaped values, SQL literals and URL query values.
 * Everything here works on already-decoded strings; the wire rewriter (redact.ts) decides cheaply, on the
 * raw bytes, which strings are worth decoding and handing to these functions.
 */

export const REDACTION_KINDS = ['key', 'email', 'card', 'bearer', 'jwt', 'db_statement', 'url_query', 'custom'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];
export type RedactionCounts = Record<RedactionKind, number>;

export const DEFAULT_DENY_KEYS: readonly string[] = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'secret',
  'x-api-key',
  'api_key',
  'apikey',
  'token',
  'access_token',
  'refresh_token',
  'private_key',
  'proxy-authorization',
];

/** Attribute keys whose string value is a database statement (stable and legacy semantic conventions). */
export const DB_STATEMENT_KEYS: readonly string[] = ['db.query.text', 'db.statement'];
/** Attribute keys whose string value is a URL, a request target or a bare query string. */
export const URL_KEYS: readonly string[] = ['url.full', 'http.url', 'http.target', 'url.query'];

/** The settings the redactor is built from (plain data: they cross to the writer thread in workerData). */
export interface RedactionSettings {
  enabled: boolean;
  /** Value put in place of a redacted attribute value or matched substring. */
  replacement: string;
  /** Added to DEFAULT_DENY_KEYS; matched case-insensitively on the whole key or its last dotted segment. */
  denyKeys: string[];
  /** Keys (whole key, case-insensitive) never redacted, by key or by value. */
  allowKeys: string[];
  patterns: { email: boolean; card: boolean; bearer: boolean; jwt: boolean };
  /** Extra value patterns (JavaScript regular expression sources); every match is replaced. */
  customPatterns: string[];
  /** Replace string and numeric literals of db.query.text / db.statement with `?`. */
  dbStatement: boolean;
  /** Replace every query parameter value (and URL user info) of url.full / url.query / http.url / http.target. */
  urlQuery: boolean;
}

export const DEFAULT_REDACTION_SETTINGS: RedactionSettings = {
  enabled: true,
  replacement: '[REDACTED]',
  denyKeys: [],
  allowKeys: [],
  patterns: { email: true, card: true, bearer: true, jwt: true },
  customPatterns: [],
  dbStatement: true,
  urlQuery: true,
};

export function emptyCounts(): RedactionCounts {
  return { key: 0, email: 0, card: 0, bearer: 0, jwt: 0, db_statement: 0, url_query: 0, custom: 0 };
}

/** Counts of two redactors (one per thread that redacts) added up. */
export function addRedactionCounts(a: RedactionCounts, b: RedactionCounts | undefined): RedactionCounts {
  const sum = { ...a };
  if (b) for (const kind of Object.keys(sum) as (keyof RedactionCounts)[]) sum[kind] += b[kind];
  return sum;
}

/** Luhn checksum over the digits of `text` (separators ignored); cards are 13–19 digits. */
export function luhnValid(text: string): boolean {
  let sum = 0;
  let n = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    let d = c;
    if (n % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    n++;
  }
  return n >= 13 && n <= 19 && sum % 10 === 0;
}

// The lookbehinds make a match start only at the beginning of a run of its characters, so each run is
// scanned once: without them a hostile value (`-eyJ-eyJ…`, a long local part before a bad domain)
// makes the regex quadratic in the value's length.
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi;
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// 13–19 digits, optionally grouped by single spaces or dashes, not inside a longer digit run.
const CARD = /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g;

/**
 * SQL literals: single-quoted strings ('' escapes), hex and decimal numbers that are not part of an
 * identifier or a positional parameter ($1). Double quotes are identifiers in standard SQL and stay.
 */
const SQL_LITERAL = /'(?:[^']|'')*'?|(?<![A-Za-z0-9_$.:@])(?:0[xX][0-9A-Fa-f]+|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(?![A-Za-z0-9_])/g;

/** Replaces every string and numeric literal with `?`; null when there is none. */
export function normalizeDbStatement(sql: string): string | null {
  let changed = false;
  const out = sql.replace(SQL_LITERAL, () => {
    changed = true;
    return '?';
  });
  return changed ? out : null;
}

/**
 * Replaces every query parameter value with `replacement` (names are kept: they say what was sent) and
 * URL user info with `replacement:replacement`, as the OTel semantic conventions ask for url.full
 * credentials. `bareQuery` is for url.query, which holds the query without the `?`. Null when unchanged.
 */
export function redactUrl(url: string, replacement: string, bareQuery: boolean): string | null {
  let out = url;
  if (!bareQuery) {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#@]*)@/.exec(url);
    if (scheme?.[1] !== undefined) {
      const at = scheme[0].length - 1;
      const infoStart = at - scheme[1].length;
      out = `${url.slice(0, infoStart)}${replacement}:${replacement}${url.slice(at)}`;
    }
  }
  const q = bareQuery ? 0 : out.indexOf('?') + 1;
  if (bareQuery || q > 0) {
    const hash = out.indexOf('#', q);
    const end = hash < 0 ? out.length : hash;
    const query = out
      .slice(q, end)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        return eq < 0 || eq === pair.length - 1 ? pair : `${pair.slice(0, eq + 1)}${replacement}`;
      })
      .join('&');
    out = out.slice(0, q) + query + out.slice(end);
  }
  return out === url ? null : out;
}

/** Prefilter bits (redact.ts `prefilter`): which built-in patterns a string could match. */
export const HIT_EMAIL = 1;
export const HIT_CARD = 2;
export const HIT_BEARER = 4;
export const HIT_JWT = 8;
export const HIT_ALL = 15;

/** Value patterns in the order they are applied (JWT first: a `Bearer eyJ…` keeps its more specific kind). */
export interface ValuePattern {
  kind: RedactionKind;
  regex: RegExp;
  /** The prefilter bit that must be set for this pattern to run; 0 (custom patterns): always runs. */
  bit: number;
  /** Rejects a regex match that is not really a secret (the Luhn check for cards). */
  accept?: (match: string) => boolean;
  /** Replacement for one match (bearer keeps its scheme word). */
  replace?: (match: string, replacement: string) => string;
}

export function builtinPatterns(enabled: RedactionSettings['patterns']): ValuePattern[] {
  const out: ValuePattern[] = [];
  if (enabled.jwt) out.push({ kind: 'jwt', regex: JWT, bit: HIT_JWT });
  if (enabled.bearer) out.push({ kind: 'bearer', regex: BEARER, bit: HIT_BEARER, replace: (m, r) => `${m.slice(0, 6)} ${r}` });
  if (enabled.email) out.push({ kind: 'email', regex: EMAIL, bit: HIT_EMAIL });
  if (enabled.card) out.push({ kind: 'card', regex: CARD, bit: HIT_CARD, accept: luhnValid });
  return out;
}

/** `source` is a regex source, or `/source/flags` to give flags (e.g. `/secret-[a-z]+/i`); `g` is always added. */
export function compileCustomPattern(source: string): RegExp {
  const literal = /^\/(.+)\/([dimsuy]*)$/s.exec(source);
  const body = literal ? (literal[1] as string) : source;
  const flags = literal ? (literal[2] as string) : '';
  return new RegExp(body, `${flags}g`);
}

export function customPatterns(sources: readonly string[]): ValuePattern[] {
  return sources.map((source) => ({ kind: 'custom', regex: compileCustomPattern(source), bit: 0 }));
}

/**
 * Applies the value patterns to `text`, counting each replaced match; null when nothing matched. Only
 * patterns whose prefilter bit is in `hits` run (custom ones always do).
 */
export function redactText(text: string, patterns: readonly ValuePattern[], replacement: string, counts: RedactionCounts, hits = HIT_ALL): string | null {
  let out = text;
  let changed = false;
  for (const p of patterns) {
    if (p.bit !== 0 && (p.bit & hits) === 0) continue;
    p.regex.lastIndex = 0;
    if (!p.regex.test(out)) continue;
    p.regex.lastIndex = 0;
    out = out.replace(p.regex, (match) => {
      if (match === '' || (p.accept !== undefined && !p.accept(match))) return match;
      counts[p.kind]++;
      changed = true;
      return p.replace ? p.replace(match, replacement) : replacement;
    });
  }
  return changed ? out : null;
}
