import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REDACTION_SETTINGS,
  builtinPatterns,
  compileCustomPattern,
  emptyCounts,
  luhnValid,
  normalizeDbStatement,
  redactText,
  redactUrl,
} from '../../../src/codec/redact-values.js';

const R = '[REDACTED]';

describe('luhnValid', () => {
  it('accepts real test card numbers with or without separators', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111 1111 1111 1111')).toBe(true);
    expect(luhnValid('5500-0000-0000-0004')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true); // Amex, 15 digits
  });
  it('rejects numbers that fail the checksum or have the wrong length', () => {
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('1234567812345678')).toBe(false);
    expect(luhnValid('0000000000')).toBe(false); // 10 digits: too short even though the sum is 0
  });
});

describe('normalizeDbStatement', () => {
  it('replaces string and numeric literals with ?', () => {
    expect(normalizeDbStatement("SELECT * FROM users WHERE email = 'a@b.com' AND age > 42")).toBe('SELECT * FROM users WHERE email = ? AND age > ?');
    expect(normalizeDbStatement("INSERT INTO t (a, b) VALUES ('it''s', 3.14), (0x1F, -7)")).toBe('INSERT INTO t (a, b) VALUES (?, ?), (?, -?)');
  });
  it('keeps identifiers with digits, placeholders and quoted identifiers', () => {
    expect(normalizeDbStatement('SELECT col1 FROM t2 WHERE id = $1 AND x = :p1 AND "Col3" = ?')).toBeNull();
    expect(normalizeDbStatement('SELECT a FROM s.t9')).toBeNull();
  });
  it('replaces an unterminated string to the end', () => {
    expect(normalizeDbStatement("SELECT 'secret")).toBe('SELECT ?');
  });
});

describe('redactUrl', () => {
  it('replaces every query value, keeps names, path and fragment', () => {
    expect(redactUrl('https://h.example/p/a?token=abc&page=2&flag#frag', R, false)).toBe(`https://h.example/p/a?token=${R}&page=${R}&flag#frag`);
    expect(redactUrl('/search?q=secret', R, false)).toBe(`/search?q=${R}`);
  });
  it('replaces user info', () => {
    expect(redactUrl('https://bob:hunter2@db.example:5432/x', R, false)).toBe(`https://${R}:${R}@db.example:5432/x`);
  });
  it('handles a bare query (url.query) and leaves URLs without query alone', () => {
    expect(redactUrl('a=1&b=', R, true)).toBe(`a=${R}&b=`);
    expect(redactUrl('https://h.example/p', R, false)).toBeNull();
    expect(redactUrl('/p?empty=', R, false)).toBeNull();
  });
});

describe('redactText with the built-in patterns', () => {
  const patterns = builtinPatterns(DEFAULT_REDACTION_SETTINGS.patterns);
  const run = (text: string): [string | null, ReturnType<typeof emptyCounts>] => {
    const counts = emptyCounts();
    return [redactText(text, patterns, R, counts), counts];
  };

  it('emails, keeping the surrounding text', () => {
    const [out, counts] = run('user alice.smith+x@mail.example.com logged in, cc bob@ex.org');
    expect(out).toBe(`user ${R} logged in, cc ${R}`);
    expect(counts.email).toBe(2);
  });
  it('Luhn-valid card numbers only', () => {
    expect(run('paid with 4111 1111 1111 1111 ok')[0]).toBe(`paid with ${R} ok`);
    expect(run('order 4111111111111112')[0]).toBeNull();
    expect(run('ts 1700000000000000000')[0]).toBeNull(); // 19 digits, not Luhn-valid
  });
  it('bearer tokens keep the scheme word', () => {
    const [out, counts] = run('Authorization: Bearer abc.DEF-123_x=');
    expect(out).toBe(`Authorization: Bearer ${R}`);
    expect(counts.bearer).toBe(1);
    expect(run('bearer xyz')[0]).toBe(`bearer ${R}`);
  });
  it('JWTs, counted as jwt even after Bearer', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const [out, counts] = run(`Bearer ${jwt}`);
    expect(out).toBe(`Bearer ${R}`);
    expect(counts.jwt).toBe(1);
    expect(counts.bearer).toBe(0);
  });
  it('leaves ordinary text alone', () => {
    expect(run('GET /api/v1/cart 200 in 12ms')[0]).toBeNull();
  });
});

describe('compileCustomPattern', () => {
  it('takes a bare source or /source/flags and always matches globally', () => {
    expect(compileCustomPattern('ssn-\\d+').flags).toBe('g');
    const re = compileCustomPattern('/secret-[a-z]+/i');
    expect(re.flags).toBe('gi');
    expect('SECRET-abc'.replace(re, 'x')).toBe('x');
  });
});

describe('hostile values', () => {
  it('stay linear: long runs that almost match finish quickly', () => {
    const patterns = builtinPatterns(DEFAULT_REDACTION_SETTINGS.patterns);
    const inputs = ['-eyJ'.repeat(50_000), `${'a'.repeat(200_000)}@b`, `${'x.'.repeat(100_000)}@host`, 'bearer '.repeat(30_000), '4'.repeat(200_000)];
    for (const text of inputs) {
      const started = performance.now();
      redactText(text, patterns, R, emptyCounts());
      expect(performance.now() - started, text.slice(0, 12)).toBeLessThan(1000);
    }
  });
});
