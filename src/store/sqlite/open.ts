import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS, type Migration } from './migrations.js';

export const SPANS_DB_FILE = 'spans.db';

export function spansDbPath(dataDir: string): string {
  return path.join(dataDir, SPANS_DB_FILE);
}

/**
 * Opens the writer connection and brings the schema up to date. WAL with synchronous=NORMAL keeps every
 * committed transaction across a process crash (kill -9); only an OS crash or power loss can lose the last
 * commits, the trade-off the Collector's persistent queue also makes.
 */
export interface WriterDbOptions {
  /** max_page_count: writes past it fail with SQLITE_FULL (a quota, or a full disk in tests). */
  maxPages?: number;
  /** Page cache in KiB. */
  cacheKiB?: number;
  /** Bytes the database may hold (retention.maxSize): the WAL is kept to a fraction of it. */
  maxBytes?: number;
}

const WAL_AUTOCHECKPOINT_PAGES = 10_000;
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

export function openWriterDb(dataDir: string, options: WriterDbOptions = {}): Database.Database {
  const cacheKiB = options.cacheKiB ?? 65_536;
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(spansDbPath(dataDir));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${Math.floor(cacheKiB)}`);
  db.pragma('temp_store = MEMORY');
  db.pragma(`wal_autocheckpoint = ${walBudgetPages(db, options.maxBytes)}`);
  // When the WAL restarts, truncate it back to this size so that it does not stay at its peak.
  db.pragma(`journal_size_limit = ${Math.floor(Math.min(JOURNAL_SIZE_LIMIT, walBudgetBytes(options.maxBytes)))}`);
  migrate(db);
  if (options.maxPages !== undefined) db.pragma(`max_page_count = ${options.maxPages}`);
  return db;
}

function walBudgetBytes(maxBytes: number | undefined): number {
  return maxBytes === undefined ? Infinity : maxBytes / 8;
}

/**
 * WAL pages between checkpoints. Larger than SQLite's default 1000: fewer, bigger checkpoints measured
 * +22–31 % ingest here. A small retention.maxSize gets a proportionally smaller WAL (an eighth), or the
 * WAL alone would outgrow it.
 */
export function walBudgetPages(db: Database.Database, maxBytes: number | undefined): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return Math.max(100, Math.min(WAL_AUTOCHECKPOINT_PAGES, Math.floor(walBudgetBytes(maxBytes) / pageSize)));
}

/** Read-only connection for queries; WAL lets it read while the writer worker commits. */
export function openReaderDb(dataDir: string, cacheKiB = 32_768): Database.Database {
  const db = new Database(spansDbPath(dataDir), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${Math.floor(cacheKiB)}`);
  return db;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Database.Database): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this spanlens (${MIGRATIONS.length}); upgrade spanlens or use another --data directory`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      const step = MIGRATIONS[version] as Migration;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
