import Database from 'better-sqlite3';
import type { AlertState } from '../../analysis/alert-state.js';
import type { AlertHistoryEntry } from '../ports.js';
import { spansDbPath } from './open.js';
import { ALERT_SQL } from './sql.js';

export interface StoredAlertRule {
  name: string;
  source: 'config' | 'mcp';
  /** The rule as validated input (JSON object). */
  spec: Record<string, unknown>;
  updatedMs: number;
}

const HISTORY_DELETE_BATCH = 5_000;

/**
 * Alert rules, states and history in the spans database. Its own small read-write connection on the
 * main thread: alert writes are a few rows per evaluation interval at most, so they share the WAL with
 * the ingest writer worker (busy_timeout waits out its short commits) instead of going through it.
 * Opened after the store has started, so the writer has already migrated the schema.
 */
export class SqliteAlertStore {
  private readonly db: Database.Database;
  private readonly stmt: { [K in keyof typeof ALERT_SQL]: Database.Statement };

  constructor(dataDir: string) {
    this.db = new Database(spansDbPath(dataDir), { fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    this.stmt = Object.fromEntries(Object.entries(ALERT_SQL).map(([k, sql]) => [k, this.db.prepare(sql)])) as typeof this.stmt;
  }

  rules(): StoredAlertRule[] {
    return (this.stmt.rules.all() as { name: string; source: string; spec: string; updated_ms: number }[]).map((r) => ({
      name: r.name,
      source: r.source === 'config' ? 'config' : 'mcp',
      spec: JSON.parse(r.spec) as Record<string, unknown>,
      updatedMs: Number(r.updated_ms),
    }));
  }

  /** Stores config rules as given and drops config rules no longer configured, in one transaction. */
  replaceConfigRules(rules: readonly { name: string; spec: Record<string, unknown> }[], nowMs: number): void {
    this.db.transaction(() => {
      const keep = new Set(rules.map((r) => r.name));
      for (const r of this.rules()) {
        if (r.source === 'config' && !keep.has(r.name)) {
          this.stmt.deleteRule.run(r.name);
          this.stmt.deleteState.run(r.name);
        }
      }
      for (const r of rules) this.stmt.upsertRule.run(r.name, 'config', JSON.stringify(r.spec), nowMs);
    })();
  }

  /** True when the rule is new. */
  upsertRule(name: string, source: 'config' | 'mcp', spec: Record<string, unknown>, nowMs: number): boolean {
    const existed = this.stmt.rule.get(name) !== undefined;
    this.stmt.upsertRule.run(name, source, JSON.stringify(spec), nowMs);
    return !existed;
  }

  /** Removes the rule and its state (its history stays until retention). */
  deleteRule(name: string): boolean {
    return this.db.transaction(() => {
      this.stmt.deleteState.run(name);
      return this.stmt.deleteRule.run(name).changes > 0;
    })();
  }

  states(): Map<string, AlertState> {
    const out = new Map<string, AlertState>();
    for (const r of this.stmt.states.all() as { rule: string; state: string }[]) out.set(r.rule, JSON.parse(r.state) as AlertState);
    return out;
  }

  /** State changes and their history entries, atomically. */
  record(states: readonly { rule: string; state: AlertState }[], history: readonly AlertHistoryEntry[]): void {
    if (states.length === 0 && history.length === 0) return;
    this.db.transaction(() => {
      for (const s of states) this.stmt.upsertState.run(s.rule, JSON.stringify(s.state));
      for (const h of history) this.stmt.insertHistory.run(h.atMs, h.rule, h.kind, JSON.stringify(h));
    })();
  }

  /** Newest first. */
  recentHistory(limit: number, rule?: string): AlertHistoryEntry[] {
    const rows = (rule === undefined ? this.stmt.recentHistory.all(limit) : this.stmt.recentHistoryOfRule.all(rule, limit)) as { entry: string }[];
    return rows.map((r) => JSON.parse(r.entry) as AlertHistoryEntry);
  }

  /** Deletes history older than `beforeMs` in bounded batches; returns the rows deleted. */
  pruneHistory(beforeMs: number): number {
    let deleted = 0;
    for (;;) {
      const n = this.stmt.deleteHistoryBefore.run(beforeMs, HISTORY_DELETE_BATCH).changes;
      deleted += n;
      if (n < HISTORY_DELETE_BATCH) return deleted;
    }
  }

  close(): void {
    this.db.close();
  }
}
