import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';

/**
 * String → integer id dictionaries for service and span names, loaded once and extended inside the
 * writer's transaction. Interning keeps the span rows and the side tables small (a name is stored once).
 */
export class NameDictionary {
  private readonly ids = new Map<string, number>();
  private readonly insert: Database.Statement;
  private readonly selectAll: Database.Statement;

  constructor(db: Database.Database, selectAllSql: string, insertSql: string) {
    this.selectAll = db.prepare(selectAllSql);
    this.insert = db.prepare(insertSql);
    this.reload();
  }

  /** After a rolled-back transaction the cache may hold ids that were never committed. */
  reload(): void {
    this.ids.clear();
    for (const row of this.selectAll.all() as { id: number; name: string }[]) this.ids.set(row.name, row.id);
  }

  /** Must run inside the writer's transaction so that a rollback cannot leave an id the cache believes in. */
  idFor(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const id = Number(this.insert.run(name).lastInsertRowid);
    this.ids.set(name, id);
    return id;
  }
}

export const BLOB_DIGEST_BYTES = 20;

/** Deduplicates resources and scopes by a digest of their exact bytes; a bounded cache in front of a UNIQUE column. */
export class BlobDictionary {
  private cache = new Map<string, number>();
  private readonly select: Database.Statement;

  constructor(
    db: Database.Database,
    selectSql: string,
    private readonly insert: Database.Statement,
    private readonly maxCached = 10_000,
  ) {
    this.select = db.prepare(selectSql);
  }

  /** BLOB_DIGEST_BYTES long. */
  static digest(schemaUrl: string, raw: Uint8Array | null): Buffer {
    const hash = createHash('sha1');
    hash.update(schemaUrl);
    hash.update('\0');
    if (raw) hash.update(raw);
    return hash.digest();
  }

  /** `insertArgs` are the values after the digest in the insert statement. */
  idFor(digest: Buffer, insertArgs: unknown[]): number {
    const key = digest.toString('latin1');
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const row = this.select.get(digest) as { id: number } | undefined;
    const id = row ? row.id : Number(this.insert.run(digest, ...insertArgs).lastInsertRowid);
    if (this.cache.size >= this.maxCached) this.cache = new Map();
    this.cache.set(key, id);
    return id;
  }

  /** After a rolled-back transaction the cache may hold ids that were never committed. */
  clear(): void {
    this.cache = new Map();
  }
}
