import type Database from 'better-sqlite3';
import { convertSearchRowsToBlocks } from './search-migration.js';

/**
 * Forward-only schema migrations, applied in order and recorded in `PRAGMA user_version`. A step is SQL,
 * or a function for data SQL alone cannot reshape.
 *
 * Why spans have no per-span row or index: on this class of machine a B-tree index on a random key
 * (trace id, duration) costs 4–7× in insert rate and decays as the database grows, and even unindexed
 * rows cost SQLite ~6 µs each (see bench/ and README "Performance"). Spans are appended in arrival
 * order, packed per (trace, commit); per-trace and per-service lookups go through one index entry per
 * chunk and one search block per (service, start second, commit), and latency percentiles come from HDR histograms,
 * never from scanning spans.
 */
export type Migration = string | ((db: Database.Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  /* 1: initial schema */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;

  CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE span_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);

  -- Resources and scopes are stored once as their exact protobuf bytes, keyed by a digest of those bytes.
  CREATE TABLE resources (
    id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, service_id INTEGER NOT NULL,
    schema_url TEXT NOT NULL, raw BLOB);
  CREATE TABLE scopes (
    id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, schema_url TEXT NOT NULL, raw BLOB);

  -- Append-only; id order is arrival order. One row per (trace, commit): that trace's spans of the
  -- commit packed into one BLOB (layout in span-pack.ts), so rows written scale with traces, not spans.
  -- AUTOINCREMENT: ids are watermarks (latency replay, retention) and must never be reused.
  CREATE TABLE trace_chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, trace_id BLOB NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, span_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL, has_root INTEGER NOT NULL,
    root_service_id INTEGER NOT NULL, root_name_id INTEGER NOT NULL, spans BLOB NOT NULL);
  CREATE INDEX trace_chunks_by_trace ON trace_chunks (trace_id);

  -- Trace search: one row per (service, chunk) with that service's operations packed in ops
  -- (span-pack.ts). The key is time-ordered within a service, so inserts land on a few hot pages.
  CREATE TABLE trace_search (
    service_id INTEGER NOT NULL, start_ns INTEGER NOT NULL, chunk_id INTEGER NOT NULL, trace_id BLOB NOT NULL,
    max_duration_ns INTEGER NOT NULL, error_count INTEGER NOT NULL, ops BLOB NOT NULL,
    PRIMARY KEY (service_id, start_ns, chunk_id)) WITHOUT ROWID;

  -- Arrival minute -> first chunk id, so that age-based retention deletes by id range.
  CREATE TABLE ingest_minutes (minute INTEGER PRIMARY KEY, first_chunk_id INTEGER NOT NULL);

  -- HDR latency series: (service, span name, kind, error) -> per-minute and per-hour histograms.
  CREATE TABLE latency_series (
    id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL, name_id INTEGER NOT NULL,
    kind INTEGER NOT NULL, is_error INTEGER NOT NULL,
    UNIQUE (service_id, name_id, kind, is_error));
  CREATE TABLE latency_minutes (
    series_id INTEGER NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL, hist TEXT NOT NULL,
    PRIMARY KEY (series_id, minute)) WITHOUT ROWID;
  CREATE TABLE latency_hours (
    series_id INTEGER NOT NULL, hour INTEGER NOT NULL, count INTEGER NOT NULL, hist TEXT NOT NULL,
    PRIMARY KEY (series_id, hour)) WITHOUT ROWID;
  `,
  /* 2: metrics series store (see metric-writer.ts) */ `
  -- One row per (metric name, type): unit and description follow the latest export.
  CREATE TABLE metrics (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, unit TEXT NOT NULL,
    description TEXT NOT NULL, monotonic INTEGER NOT NULL, temporality INTEGER NOT NULL,
    UNIQUE (name, type));

  -- Series identity: digest of (name, type, temporality, monotonic, resource attributes, point attributes),
  -- so that every series is homogeneous even if senders disagree on temporality. labels = resource
  -- attributes overridden by point attributes, as canonical JSON. overflow = 1 for the series that
  -- takes the points of new series once the series cap is reached.
  CREATE TABLE metric_series (
    id INTEGER PRIMARY KEY, metric_id INTEGER NOT NULL, digest BLOB NOT NULL UNIQUE,
    labels TEXT NOT NULL, resource TEXT NOT NULL, attributes TEXT NOT NULL, scope TEXT NOT NULL,
    temporality INTEGER NOT NULL, monotonic INTEGER NOT NULL,
    overflow INTEGER NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL);
  CREATE INDEX metric_series_by_metric ON metric_series (metric_id);

  -- Points, time-bucketed: bucket = hour of time_ns; key (bucket, metric, time, series). Within a bucket the
  -- points of one metric are in time order, so an export appends at one place per metric (not per
  -- series: per-series keys measured 2.5x slower ingest from page churn), a query reads one key range
  -- per (hour, metric) and filters series, and retention deletes whole buckets by key range.
  -- value: gauge/sum; count/sum/min/max: distributions; data: JSON buckets/quantiles.
  -- A re-sent point (same series and time) replaces the stored one: duplicates are legal in OTLP.
  CREATE TABLE metric_points (
    bucket INTEGER NOT NULL, metric_id INTEGER NOT NULL, time_ns INTEGER NOT NULL, series_id INTEGER NOT NULL,
    start_ns INTEGER NOT NULL, flags INTEGER NOT NULL, value REAL, count REAL, sum REAL, min REAL, max REAL, data TEXT,
    PRIMARY KEY (bucket, metric_id, time_ns, series_id)) WITHOUT ROWID;

  CREATE TABLE metric_exemplars (
    bucket INTEGER NOT NULL, series_id INTEGER NOT NULL, time_ns INTEGER NOT NULL, value REAL NOT NULL,
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, attributes TEXT NOT NULL);
  CREATE INDEX metric_exemplars_by_bucket ON metric_exemplars (bucket, series_id);
  `,
  /* 3: histogram buckets by time, for reads that merge every series over a window (list_operations) */ `
  CREATE INDEX latency_hours_by_hour ON latency_hours (hour, series_id, count);
  CREATE INDEX latency_minutes_by_minute ON latency_minutes (minute, series_id, count);
  `,
  /* 4: alerting (rules from config or MCP, current states, history of state changes and deliveries) */ `
  -- spec: the rule as JSON (config/alert-schema.ts); source: config rules are rewritten at every start.
  CREATE TABLE alert_rules (name TEXT PRIMARY KEY, source TEXT NOT NULL, spec TEXT NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID;
  -- state: the AlertState of analysis/alert-state.ts as JSON, so a restart neither re-notifies nor forgets.
  CREATE TABLE alert_states (rule TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE alert_history (
    id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, rule TEXT NOT NULL, kind TEXT NOT NULL, entry TEXT NOT NULL);
  CREATE INDEX alert_history_by_time ON alert_history (at_ms);
  `,
  /* 5: SLO definitions (slo-store.ts): config ones mirrored at start, MCP-managed ones kept across restarts */ `
  CREATE TABLE slo_definitions (
    name TEXT PRIMARY KEY, source TEXT NOT NULL CHECK (source IN ('config', 'mcp')), definition TEXT NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID;
  `,
  /* 6: audit log of MCP tool calls (audit-store.ts); its own retention (audit.maxAge, audit.maxRows) */ `
  -- AUTOINCREMENT: ids only grow, so retention by row count deletes id ranges from the front.
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, transport TEXT NOT NULL,
    identity TEXT NOT NULL, role TEXT NOT NULL, tool TEXT NOT NULL, writes INTEGER NOT NULL,
    args_sha256 TEXT NOT NULL, args_preview TEXT NOT NULL, duration_ms REAL NOT NULL,
    result_bytes INTEGER NOT NULL, truncated INTEGER NOT NULL, outcome TEXT NOT NULL, error TEXT);
  CREATE INDEX audit_log_by_time ON audit_log (time_ms);
  `,
  /* 7: trace search as blocks of packed entries (search-blocks.ts): a few rows per commit, not one per (service, chunk) */ (db) => {
    db.exec(`
    -- One row per (service, start second, commit): that commit's entries of the service whose trace chunk
    -- starts in that second, packed. max_duration_ns and error_count summarise the entries (max, sum) so
    -- that a search skips blocks without reading them.
    CREATE TABLE trace_search_blocks (
      service_id INTEGER NOT NULL, second INTEGER NOT NULL, first_chunk_id INTEGER NOT NULL,
      entry_count INTEGER NOT NULL, max_duration_ns INTEGER NOT NULL, error_count INTEGER NOT NULL,
      entries BLOB NOT NULL,
      PRIMARY KEY (service_id, second, first_chunk_id)) WITHOUT ROWID;
    `);
    convertSearchRowsToBlocks(db);
    db.exec('DROP TABLE trace_search');
  },
];
