import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Unique secrets for the redaction tests: each (case, place) gets its own values, and each secret has a
 * `needle` (the part that must never be found on disk) distinct from everything else the test sends.
 */
export interface Secret {
  pattern: 'key' | 'email' | 'card' | 'bearer' | 'jwt' | 'db_statement' | 'url_query';
  /** Attribute key the secret is sent under. */
  key: string;
  value: string;
  /** Substrings that must not appear in any database file. */
  needles: string[];
}

/** Appends the Luhn check digit to `digits`. */
export function withLuhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}

/** A 16-digit number that fails the Luhn check (the check digit plus one). */
export function nonLuhn(digits15: string): string {
  const valid = withLuhnDigit(digits15);
  return digits15 + String((Number(valid.slice(-1)) + 1) % 10);
}

const digitsOf = (tag: string): string => BigInt(`0x${Buffer.from(tag).toString('hex').slice(0, 12)}`).toString().padStart(15, '7').slice(-15);

/** The secrets for one place; `tag` must be unique per place and case (letters and digits). */
export function secretsFor(tag: string, opts: { db?: boolean; url?: boolean } = {}): Secret[] {
  const n = randomBytes(4).toString('hex');
  const card = withLuhnDigit(`4${digitsOf(tag + n)}`.slice(0, 15));
  const out: Secret[] = [
    { pattern: 'key', key: 'http.request.header.authorization', value: `Basic keysecret${tag}${n}`, needles: [`keysecret${tag}${n}`] },
    { pattern: 'key', key: 'Password', value: `pwsecret${tag}${n}`, needles: [`pwsecret${tag}${n}`] },
    { pattern: 'email', key: `contact.${tag}`, value: `reach mail${tag}${n}@example.com today`, needles: [`mail${tag}${n}`] },
    {
      pattern: 'card',
      key: `payment.${tag}`,
      value: `card ${card.slice(0, 4)} ${card.slice(4, 8)} ${card.slice(8, 12)} ${card.slice(12)} and ${card}`,
      needles: [card, `${card.slice(0, 4)} ${card.slice(4, 8)} ${card.slice(8, 12)} ${card.slice(12)}`],
    },
    { pattern: 'bearer', key: `auth.header.${tag}`, value: `Bearer tokbearer${tag}${n}`, needles: [`tokbearer${tag}${n}`] },
    {
      pattern: 'jwt',
      key: `session.${tag}`,
      value: `jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi${tag}${n}.sig${tag}${n}`,
      needles: [`eyJzdWIiOi${tag}${n}`, `sig${tag}${n}`],
    },
  ];
  if (opts.db) {
    out.push({
      pattern: 'db_statement',
      key: 'db.statement',
      value: `SELECT * FROM users WHERE name = 'dbsecret${tag}${n}' AND pin = 90${card.slice(0, 6)}`,
      needles: [`dbsecret${tag}${n}`, `90${card.slice(0, 6)}`],
    });
  }
  if (opts.url) {
    out.push({
      pattern: 'url_query',
      key: 'url.full',
      value: `https://shop.example/cart?session=urlsecret${tag}${n}&page=2`,
      needles: [`urlsecret${tag}${n}`],
    });
  }
  return out;
}

/** Values that must survive: a plain attribute and a 16-digit number that is not a card (Luhn fails). */
export function keptFor(tag: string): { key: string; value: string }[] {
  const n = randomBytes(4).toString('hex');
  return [
    { key: `keep.${tag}`, value: `visible${tag}${n}` },
    { key: `order.${tag}`, value: nonLuhn(`5${digitsOf(`k${tag}${n}`)}`.slice(0, 15)) },
  ];
}

/** The database, WAL and shm files of a data directory, read as raw bytes. */
export function readStoreFiles(dataDir: string): { name: string; bytes: Buffer }[] {
  return fs
    .readdirSync(dataDir)
    .filter((f) => fs.statSync(path.join(dataDir, f)).isFile())
    .map((name) => ({ name, bytes: fs.readFileSync(path.join(dataDir, name)) }));
}

/** Which needles occur in any of the files (each reported with the file it was found in). */
export function findNeedles(files: { name: string; bytes: Buffer }[], needles: string[]): string[] {
  const found: string[] = [];
  for (const needle of needles) {
    for (const f of files) if (f.bytes.includes(needle)) found.push(`${needle} in ${f.name}`);
  }
  return found;
}
