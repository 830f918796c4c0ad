/**
 * Forward-only schema migrations, applied in order and recorded in `PRAGMA user_version`.
 *
 * Why spans have no per-span row or index: on this class of machine a B-tree index on a random key
 * (trace id, duration) costs 4–7× in insert rate and decays as the database grows, and even unindexed
 * rows cost SQLite ~6 µs each (see bench/ and README "Performance"). Spans are appended in arrival
 * order, packed per (trace, commit); per-trace and per-service lookups go through one index entry per
 * chunk and one search row per (service, chunk), and latency percentiles come from HDR histograms,
 * never from scanning spans.
 */
export const MIGRATIONS: readonly string[] = [
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
];
