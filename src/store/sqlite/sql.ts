/**
 * Every SQL statement spanlens runs, named. Nothing else under src/ contains SQL; statements are
 * prepared when a connection opens, so a typo fails at start-up rather than on first use.
 */
export const WRITER_SQL = {
  selectServices: 'SELECT id, name FROM services',
  insertService: 'INSERT INTO services (name) VALUES (?)',
  selectSpanNames: 'SELECT id, name FROM span_names',
  insertSpanName: 'INSERT INTO span_names (name) VALUES (?)',
  selectResourceByDigest: 'SELECT id FROM resources WHERE digest = ?',
  insertResource: 'INSERT INTO resources (digest, service_id, schema_url, raw) VALUES (?, ?, ?, ?)',
  selectScopeByDigest: 'SELECT id FROM scopes WHERE digest = ?',
  insertScope: 'INSERT INTO scopes (digest, schema_url, raw) VALUES (?, ?, ?)',
  insertTraceChunk: `INSERT INTO trace_chunks (trace_id, start_ns, end_ns, span_count, error_count,
    has_root, root_service_id, root_name_id, spans) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertTraceSearch: `INSERT INTO trace_search_blocks (service_id, second, first_chunk_id, entry_count, max_duration_ns,
    error_count, entries) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  insertIngestMinute: 'INSERT OR IGNORE INTO ingest_minutes (minute, first_chunk_id) VALUES (?, ?)',
  newestChunks: 'SELECT trace_id, spans FROM trace_chunks ORDER BY id DESC',
  maxChunkId: "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'trace_chunks'), 0) AS id",

  selectLatencySeries: 'SELECT id, service_id, name_id, kind, is_error FROM latency_series',
  insertLatencySeries: 'INSERT INTO latency_series (service_id, name_id, kind, is_error) VALUES (?, ?, ?, ?)',
  selectLatencyMinute: 'SELECT hist FROM latency_minutes WHERE series_id = ? AND minute = ?',
  upsertLatencyMinute: `INSERT INTO latency_minutes (series_id, minute, count, hist) VALUES (?, ?, ?, ?)
    ON CONFLICT (series_id, minute) DO UPDATE SET count = excluded.count, hist = excluded.hist`,
  selectLatencyHour: 'SELECT hist FROM latency_hours WHERE series_id = ? AND hour = ?',
  upsertLatencyHour: `INSERT INTO latency_hours (series_id, hour, count, hist) VALUES (?, ?, ?, ?)
    ON CONFLICT (series_id, hour) DO UPDATE SET count = excluded.count, hist = excluded.hist`,
  chunksAfter: 'SELECT id, spans FROM trace_chunks WHERE id > ? ORDER BY id LIMIT ?',

  getMeta: 'SELECT value FROM meta WHERE key = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',

  // Retention: everything below deletes in bounded batches so that exports keep flowing in between.
  oldestIngestMinute: 'SELECT minute FROM ingest_minutes ORDER BY minute LIMIT 1',
  firstIngestMinuteAtOrAfter:
    'SELECT minute, first_chunk_id FROM ingest_minutes WHERE minute >= ? ORDER BY minute LIMIT 1',
  deleteChunksBelow: `DELETE FROM trace_chunks WHERE id IN (SELECT id FROM trace_chunks WHERE id < ? ORDER BY id LIMIT ?)
    RETURNING span_count`,
  deleteIngestMinutesBelow: 'DELETE FROM ingest_minutes WHERE minute < ?',
  deleteTraceSearchBefore: `DELETE FROM trace_search_blocks WHERE (service_id, second, first_chunk_id) IN (
    SELECT service_id, second, first_chunk_id FROM trace_search_blocks WHERE service_id = ? AND second < ? LIMIT ?)`,
  deleteLatencyMinutesBefore: 'DELETE FROM latency_minutes WHERE minute < ?',
  deleteLatencyHoursBefore: 'DELETE FROM latency_hours WHERE hour < ?',
  serviceIds: 'SELECT id FROM services',
  pageCount: 'PRAGMA page_count',
  freelistCount: 'PRAGMA freelist_count',
  pageSize: 'PRAGMA page_size',
} as const;

/** Trace ids bound per READER_SQL.chunksForTraces statement. */
export const TRACE_BATCH = 256;

export const READER_SQL = {
  services: 'SELECT id, name FROM services ORDER BY name',
  spanNames: 'SELECT id, name FROM span_names',
  serviceSpanCounts: `SELECT ls.service_id AS service_id, sum(lh.count) AS spans
    FROM latency_hours lh JOIN latency_series ls ON ls.id = lh.series_id GROUP BY ls.service_id`,
  serviceIdByName: 'SELECT id FROM services WHERE name = ?',
  spanNameIdByName: 'SELECT id FROM span_names WHERE name = ?',
  // Newest second first; the caller filters the packed entries and stops once it has enough traces.
  searchByService: `SELECT second, entries FROM trace_search_blocks
    WHERE service_id = @service AND second >= @startSecond AND second <= @endSecond
      AND max_duration_ns >= @minDuration AND error_count >= @minErrors
    ORDER BY second DESC`,
  traceChunkSummaries: `SELECT id, start_ns, end_ns, span_count, error_count, has_root, root_service_id,
    root_name_id FROM trace_chunks WHERE trace_id = ?`,
  traceChunkSpans: 'SELECT id, spans FROM trace_chunks WHERE trace_id = ? ORDER BY id',
  resourceById: 'SELECT schema_url, raw FROM resources WHERE id = ?',
  scopeById: 'SELECT schema_url, raw FROM scopes WHERE id = ?',
  latencySeriesFor: `SELECT id, name_id, kind, is_error FROM latency_series WHERE service_id = ?`,
  latencyMinutes: `SELECT series_id, minute, count, hist FROM latency_minutes
    WHERE series_id = ? AND minute >= ? AND minute < ?`,
  latencyHours: `SELECT series_id, hour, count, hist FROM latency_hours
    WHERE series_id = ? AND hour >= ? AND hour < ?`,

  // MCP read paths: timing-only spans straight from the columns, and histogram buckets listed by
  // (bucket, count) first so that decoded histograms can be reused while their count is unchanged.
  allLatencySeries: 'SELECT id, service_id, name_id, kind, is_error FROM latency_series',
  latencyMinuteCounts: `SELECT minute AS bucket, count FROM latency_minutes
    WHERE series_id = ? AND minute >= ? AND minute < ?`,
  latencyHourCounts: `SELECT hour AS bucket, count FROM latency_hours
    WHERE series_id = ? AND hour >= ? AND hour < ?`,
  latencyMinuteHist: 'SELECT hist FROM latency_minutes WHERE series_id = ? AND minute = ?',
  allMinuteCounts: 'SELECT series_id, minute AS bucket, count FROM latency_minutes WHERE minute >= ? AND minute < ?',
  allHourCounts: 'SELECT series_id, hour AS bucket, count FROM latency_hours WHERE hour >= ? AND hour < ?',
  latencyHourHist: 'SELECT hist FROM latency_hours WHERE series_id = ? AND hour = ?',
  // Bulk analysis: the chunks (packed spans included) of up to TRACE_BATCH traces in one statement
  // (unused slots repeat an id).
  chunksForTraces: `SELECT trace_id, id, spans FROM trace_chunks WHERE trace_id IN (${Array(256).fill('?').join(', ')})`,
} as const;

/** The metrics series store (migration 2): writer side, used only by the writer worker. */
export const METRIC_WRITER_SQL = {
  selectMetrics: 'SELECT id, name, type, unit, description, monotonic, temporality FROM metrics',
  upsertMetric: `INSERT INTO metrics (name, type, unit, description, monotonic, temporality) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (name, type) DO UPDATE SET unit = excluded.unit, description = excluded.description,
      monotonic = excluded.monotonic, temporality = excluded.temporality
    RETURNING id`,
  selectSeries: 'SELECT id, metric_id, digest, overflow, last_ns FROM metric_series',
  insertSeries: `INSERT INTO metric_series (metric_id, digest, labels, resource, attributes, scope, temporality, monotonic,
    overflow, first_ns, last_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  touchSeries: 'UPDATE metric_series SET last_ns = max(last_ns, ?), first_ns = min(first_ns, ?) WHERE id = ?',
  insertPoint: `INSERT OR REPLACE INTO metric_points (bucket, metric_id, time_ns, series_id, start_ns, flags, value, count, sum,
    min, max, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  addOverflowPoint: `INSERT INTO metric_points (bucket, metric_id, time_ns, series_id, start_ns, flags, value)
    VALUES (?, ?, ?, ?, ?, 0, ?)
    ON CONFLICT (bucket, metric_id, time_ns, series_id) DO UPDATE SET value = value + excluded.value`,
  insertExemplar: `INSERT INTO metric_exemplars (bucket, series_id, time_ns, value, trace_id, span_id, attributes)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  oldestPointBucket: 'SELECT min(bucket) AS bucket FROM metric_points',
  deletePointsBefore: `DELETE FROM metric_points WHERE (bucket, metric_id, time_ns, series_id) IN (
    SELECT bucket, metric_id, time_ns, series_id FROM metric_points WHERE bucket < ? LIMIT ?)`,
  deleteExemplarsBefore: 'DELETE FROM metric_exemplars WHERE rowid IN (SELECT rowid FROM metric_exemplars WHERE bucket < ? LIMIT ?)',
  staleSeries: 'SELECT id, digest FROM metric_series WHERE last_ns < ? LIMIT ?',
  deleteSeries: 'DELETE FROM metric_series WHERE id = ?',
  deleteUnusedMetrics: 'DELETE FROM metrics WHERE id NOT IN (SELECT DISTINCT metric_id FROM metric_series)',
} as const;

/** The metrics series store: read side (the API's read-only connection). */
export const METRIC_READER_SQL = {
  metrics: 'SELECT id, name, type, unit, description, monotonic, temporality FROM metrics ORDER BY name, type',
  metricsByName: 'SELECT id, name, type, unit, description, monotonic, temporality FROM metrics WHERE name = ?',
  seriesOfMetric: `SELECT id, labels, temporality, monotonic, overflow, first_ns, last_ns FROM metric_series
    WHERE metric_id = ? ORDER BY id`,
  pointsOfMetricInBucket: `SELECT series_id, time_ns, start_ns, flags, value, count, sum, min, max, data FROM metric_points
    WHERE bucket = ? AND metric_id = ? AND time_ns >= ? AND time_ns <= ? ORDER BY time_ns`,
  seriesCounts: 'SELECT metric_id, count(*) AS n FROM metric_series GROUP BY metric_id',
  exemplarsInBucket: `SELECT time_ns, value, trace_id, span_id, attributes FROM metric_exemplars
    WHERE bucket = ? AND series_id = ? AND time_ns >= ? AND time_ns <= ? LIMIT ?`,
} as const;

/** Alerting: rules, current states and history, written from the main thread through a small connection. */
export const ALERT_SQL = {
  rules: 'SELECT name, source, spec, updated_ms FROM alert_rules ORDER BY name',
  rule: 'SELECT name, source, spec, updated_ms FROM alert_rules WHERE name = ?',
  upsertRule: `INSERT INTO alert_rules (name, source, spec, updated_ms) VALUES (?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET source = excluded.source, spec = excluded.spec, updated_ms = excluded.updated_ms`,
  deleteRule: 'DELETE FROM alert_rules WHERE name = ?',
  states: 'SELECT rule, state FROM alert_states',
  upsertState: 'INSERT INTO alert_states (rule, state) VALUES (?, ?) ON CONFLICT (rule) DO UPDATE SET state = excluded.state',
  deleteState: 'DELETE FROM alert_states WHERE rule = ?',
  insertHistory: 'INSERT INTO alert_history (at_ms, rule, kind, entry) VALUES (?, ?, ?, ?)',
  recentHistory: 'SELECT entry FROM alert_history ORDER BY id DESC LIMIT ?',
  recentHistoryOfRule: 'SELECT entry FROM alert_history WHERE rule = ? ORDER BY id DESC LIMIT ?',
  deleteHistoryBefore: 'DELETE FROM alert_history WHERE id IN (SELECT id FROM alert_history WHERE at_ms < ? LIMIT ?)',
} as const;

/** Per-step latency series (latency-timeline.ts): one range read of counts per stored series, histograms only on a cache miss. */
export const TIMELINE_SQL = {
  series: 'SELECT id, service_id, name_id, kind, is_error FROM latency_series',
  serviceIdByName: 'SELECT id FROM services WHERE name = ?',
  spanNameIdByName: 'SELECT id FROM span_names WHERE name = ?',
  services: 'SELECT id, name FROM services',
  spanNames: 'SELECT id, name FROM span_names',
  minuteCounts: 'SELECT minute AS bucket, count FROM latency_minutes WHERE series_id = ? AND minute >= ? AND minute < ?',
  minuteHist: 'SELECT hist FROM latency_minutes WHERE series_id = ? AND minute = ?',
  hourCounts: 'SELECT hour AS bucket, count FROM latency_hours WHERE series_id = ? AND hour >= ? AND hour < ?',
  hourHist: 'SELECT hist FROM latency_hours WHERE series_id = ? AND hour = ?',
} as const;

/** SLO definitions (migration 4): a small main-thread connection reads and writes them (slo-store.ts). */
export const SLO_SQL = {
  list: 'SELECT name, source, definition, created_ms, updated_ms FROM slo_definitions ORDER BY name',
  get: 'SELECT name, source, definition, created_ms, updated_ms FROM slo_definitions WHERE name = ?',
  upsert: `INSERT INTO slo_definitions (name, source, definition, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET source = excluded.source, definition = excluded.definition, updated_ms = excluded.updated_ms`,
  remove: 'DELETE FROM slo_definitions WHERE name = ?',
} as const;

/** The audit log (migration 4), on its own small connection in audit-store.ts. */
export const AUDIT_SQL = {
  insert: `INSERT INTO audit_log (time_ms, transport, identity, role, tool, writes, args_sha256, args_preview, duration_ms,
    result_bytes, truncated, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  deleteOlderThan: 'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE time_ms < ? ORDER BY id LIMIT ?)',
  deleteBeyondRows: `DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ? ORDER BY id LIMIT ?)`,
  // Named parameters; an optional filter that is NULL matches every row.
  countRange: `SELECT count(*) AS n FROM audit_log WHERE time_ms >= @since AND time_ms <= @until
    AND (@identity IS NULL OR identity = @identity) AND (@tool IS NULL OR tool = @tool)`,
  rangeAsc: `SELECT * FROM audit_log WHERE time_ms >= @since AND time_ms <= @until
    AND (@identity IS NULL OR identity = @identity) AND (@tool IS NULL OR tool = @tool) ORDER BY time_ms, id LIMIT @limit OFFSET @offset`,
  rangeDesc: `SELECT * FROM audit_log WHERE time_ms >= @since AND time_ms <= @until
    AND (@identity IS NULL OR identity = @identity) AND (@tool IS NULL OR tool = @tool) ORDER BY time_ms DESC, id DESC LIMIT @limit OFFSET @offset`,
} as const;

/**
 * Uniform trace sampling (trace-sampler.ts): the search entries of a window counted (an upper bound: whole
 * blocks), then the blocks are read and only entries whose trace id falls in a hash band are kept.
 */
export const TRACE_SAMPLE_SQL = {
  countByService: `SELECT coalesce(sum(entry_count), 0) AS n FROM trace_search_blocks
    WHERE service_id = @service AND second >= @startSecond AND second <= @endSecond
      AND max_duration_ns >= @minDuration AND error_count >= @minErrors`,
  blocksByService: `SELECT entries FROM trace_search_blocks
    WHERE service_id = @service AND second >= @startSecond AND second <= @endSecond
      AND max_duration_ns >= @minDuration AND error_count >= @minErrors`,
} as const;

/** Data migrations that SQL alone cannot do (migrations.ts runs them between its DDL steps). */
export const MIGRATION_SQL = {
  /** Migration 7: the rows of the old one-row-per-(service, chunk) search table, in key order. */
  legacySearchRows: `SELECT service_id, start_ns, chunk_id, trace_id, max_duration_ns, error_count, ops FROM trace_search
    WHERE (service_id, start_ns, chunk_id) > (?, ?, ?) ORDER BY service_id, start_ns, chunk_id LIMIT ?`,
  insertSearchBlock: WRITER_SQL.insertTraceSearch,
} as const;
