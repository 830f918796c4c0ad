import Database from 'better-sqlite3';
import { spansDbPath } from './open.js';
import { SLO_SQL } from './sql.js';
import { SloDefinitionError, type SloCatalog, type SloSource, type StoredSlo } from '../ports.js';
import type { SloDefinition } from '../../analysis/slo.js';

/** Validates a definition in the config shape; `canonical` is what gets stored (and re-validated on read). */
export type SloValidator = (raw: unknown) => { ok: true; value: SloDefinition; canonical: Record<string, unknown> } | { ok: false; problems: string[] };

interface Row {
  name: string;
  source: SloSource;
  definition: string;
  created_ms: number;
  updated_ms: number;
}

/**
 * SLO definitions in the span database (table slo_definitions), through a small connection of its own
 * on the main thread: SLO writes are rare and tiny, so they stay out of the writer thread's ingest
 * transactions; WAL lets them interleave (busy_timeout covers the writer's short commits). Config SLOs
 * are mirrored into the table at start (source "config") and are read-only over MCP; MCP-managed ones
 * (source "mcp") survive restarts. The schema exists already: the writer thread migrates at start.
 */
export class SqliteSloCatalog implements SloCatalog {
  private readonly db: Database.Database;
  private readonly stmt: Record<keyof typeof SLO_SQL, Database.Statement>;

  constructor(
    dataDir: string,
    private readonly validate: SloValidator,
  ) {
    this.db = new Database(spansDbPath(dataDir), { fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.stmt = Object.fromEntries(Object.entries(SLO_SQL).map(([k, sql]) => [k, this.db.prepare(sql)])) as typeof this.stmt;
  }

  /**
   * Makes the stored config SLOs equal to the config file's: new or changed ones written (an MCP SLO of
   * the same name is replaced: the file wins), ones no longer in the file removed. Unchanged rows keep
   * their times.
   */
  syncConfig(definitions: readonly unknown[], nowMs: number): void {
    this.db.transaction(() => {
      const keep = new Set<string>();
      for (const raw of definitions) {
        const parsed = this.validate(raw);
        if (!parsed.ok) throw new SloDefinitionError(parsed.problems);
        keep.add(parsed.value.name);
        const json = JSON.stringify(parsed.canonical);
        const row = this.stmt.get.get(parsed.value.name) as Row | undefined;
        if (row?.source === 'config' && row.definition === json) continue;
        this.write(parsed.value.name, 'config', json, row, nowMs);
      }
      for (const row of this.stmt.list.all() as Row[]) if (row.source === 'config' && !keep.has(row.name)) this.stmt.remove.run(row.name);
    })();
  }

  async list(): Promise<StoredSlo[]> {
    return (this.stmt.list.all() as Row[]).flatMap((row) => this.fromRow(row) ?? []);
  }

  async get(name: string): Promise<StoredSlo | null> {
    const row = this.stmt.get.get(name) as Row | undefined;
    return row ? this.fromRow(row) : null;
  }

  async upsert(raw: unknown, nowMs: number): Promise<{ slo: StoredSlo; created: boolean }> {
    const parsed = this.validate(raw);
    if (!parsed.ok) throw new SloDefinitionError(parsed.problems);
    const name = parsed.value.name;
    const existing = this.stmt.get.get(name) as Row | undefined;
    if (existing?.source === 'config') throw new SloDefinitionError([`SLO "${name}" is defined in the config file; change it there, or choose another name`]);
    this.write(name, 'mcp', JSON.stringify(parsed.canonical), existing, nowMs);
    return { slo: this.fromRow(this.stmt.get.get(name) as Row) as StoredSlo, created: existing === undefined };
  }

  async remove(name: string): Promise<boolean> {
    const existing = this.stmt.get.get(name) as Row | undefined;
    if (!existing) return false;
    if (existing.source === 'config') throw new SloDefinitionError([`SLO "${name}" is defined in the config file and cannot be deleted over MCP; remove it from the file (slos:) and restart`]);
    this.stmt.remove.run(name);
    return true;
  }

  close(): void {
    this.db.close();
  }

  private write(name: string, source: SloSource, json: string, existing: Row | undefined, nowMs: number): void {
    this.stmt.upsert.run(name, source, json, existing?.created_ms ?? nowMs, nowMs);
  }

  /** Null for a stored definition this version no longer accepts (it stays in the table, unused). */
  private fromRow(row: Row): StoredSlo | null {
    const raw = JSON.parse(row.definition) as unknown;
    const parsed = this.validate(raw);
    if (!parsed.ok) return null;
    return { definition: parsed.value, raw, source: row.source, createdAtMs: Number(row.created_ms), updatedAtMs: Number(row.updated_ms) };
  }
}
