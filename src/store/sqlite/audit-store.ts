import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AuditEntry, AuditQuery, AuditReader } from '../ports.js';
import { spansDbPath } from './open.js';
import { AUDIT_SQL } from './sql.js';

export interface AuditStoreSettings {
  maxAgeMs: number;
  maxRows: number;
  flushIntervalMs: number;
  /** Entries waiting to be written; beyond it new ones are dropped and counted (the store is down). */
  maxQueued?: number;
}

const BATCH_ROWS = 256;
/** Rows one timer tick writes at most (~4 ms here), so a backlog never stalls the event loop for long. */
const ROWS_PER_TICK = 1024;
const RETENTION_EVERY_MS = 60_000;
const RETENTION_CHUNK = 1_000;

interface AuditRow {
  time_ms: number; transport: string; identity: string; role: string; tool: string; writes: number;
  args_sha256: string; args_preview: string; duration_ms: number; result_bytes: number; truncated: number;
  outcome: string; error: string | null;
}

/**
 * The audit log's own small connection to the span database (the schema comes from the writer's
 * migrations, so open it after the span store started). `append` only queues: rows are written in
 * small transactions on a timer, never on the tool call's path. The busy timeout is short because this
 * runs on the main thread: when the writer worker holds the write lock, the batch waits for the next
 * tick instead of blocking the event loop.
 */
export class SqliteAuditStore implements AuditReader {
  private readonly db: Database.Database;
  private readonly stmt: { [K in keyof typeof AUDIT_SQL]: Database.Statement };
  private readonly queue: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastRetention = 0;
  private closed = false;
  private failing = false;
  /** Entries dropped because the queue was full. */
  dropped = 0;

  constructor(
    dataDir: string,
    private readonly settings: AuditStoreSettings,
    private readonly logger: Logger,
  ) {
    this.db = new Database(spansDbPath(dataDir), { fileMustExist: true });
    this.db.pragma('busy_timeout = 25');
    this.stmt = Object.fromEntries(Object.entries(AUDIT_SQL).map(([k, sql]) => [k, this.db.prepare(sql)])) as typeof this.stmt;
    this.timer = setInterval(() => this.flush(Date.now(), ROWS_PER_TICK), settings.flushIntervalMs);
    this.timer.unref();
  }

  append(entry: AuditEntry): void {
    if (this.closed) return;
    if (this.queue.length >= (this.settings.maxQueued ?? 10_000)) {
      if (this.dropped++ === 0) this.logger.error('audit log queue is full: entries are being dropped (is the database writable?)');
      return;
    }
    this.queue.push(entry);
  }

  /** Writes what is queued (up to maxRows), in batches; false when the database was busy and rows are still queued. */
  flush(nowMs = Date.now(), maxRows = Number.POSITIVE_INFINITY): boolean {
    if (this.closed) return true;
    try {
      for (let written = 0; this.queue.length > 0 && written < maxRows; written += BATCH_ROWS) {
        const batch = this.queue.slice(0, BATCH_ROWS);
        this.db.transaction(() => {
          for (const e of batch) {
            this.stmt.insert.run(e.timeMs, e.transport, e.identity, e.role, e.tool, e.writes ? 1 : 0, e.argsSha256, e.argsPreview,
              e.durationMs, e.resultBytes, e.truncated ? 1 : 0, e.outcome, e.error ?? null);
          }
        }).immediate();
        this.queue.splice(0, batch.length);
      }
      if (nowMs - this.lastRetention >= RETENTION_EVERY_MS) this.retain(nowMs);
      this.failing = false;
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' && !this.failing) this.logger.warn({ err }, 'audit log write failed; retrying');
      this.failing = (err as { code?: string }).code !== 'SQLITE_BUSY';
      return false;
    }
  }

  /** Deletes rows older than maxAge and the oldest beyond maxRows, in small chunks (each its own transaction). */
  retain(nowMs: number): void {
    this.lastRetention = nowMs;
    while (this.stmt.deleteOlderThan.run(nowMs - this.settings.maxAgeMs, RETENTION_CHUNK).changes === RETENTION_CHUNK);
    while (this.stmt.deleteBeyondRows.run(this.settings.maxRows, RETENTION_CHUNK).changes === RETENTION_CHUNK);
  }

  async auditEntries(query: AuditQuery): Promise<{ entries: AuditEntry[]; total: number }> {
    this.flush();
    const until = query.untilMs ?? Number.MAX_SAFE_INTEGER;
    const filters = { since: query.sinceMs, until, identity: query.identity ?? null, tool: query.tool ?? null };
    const total = (this.stmt.countRange.get(filters) as { n: number }).n;
    const rows = (query.order === 'asc' ? this.stmt.rangeAsc : this.stmt.rangeDesc).all({ ...filters, limit: query.limit, offset: query.offset ?? 0 }) as AuditRow[];
    return { entries: rows.map(toEntry), total };
  }

  /** Idempotent: writes what is left (waiting up to 2 s for the lock) and closes the connection. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      this.db.pragma('busy_timeout = 2000');
      if (!this.flush()) this.logger.error({ lost: this.queue.length }, 'audit log entries could not be written at shutdown');
    } finally {
      this.closed = true;
      this.db.close();
    }
  }
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    timeMs: r.time_ms,
    transport: r.transport as AuditEntry['transport'],
    identity: r.identity,
    role: r.role as AuditEntry['role'],
    tool: r.tool,
    writes: r.writes === 1,
    argsSha256: r.args_sha256,
    argsPreview: r.args_preview,
    durationMs: r.duration_ms,
    resultBytes: r.result_bytes,
    truncated: r.truncated === 1,
    outcome: r.outcome as AuditEntry['outcome'],
    ...(r.error !== null ? { error: r.error } : {}),
  };
}
