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
  insertTraceSearch: `INSERT INTO trace_search (service_id, start_ns, chunk_id, trace_id, max_duration_ns,
    error_count, ops) VALUES (?, ?, ?, ?, ?, ?, ?)`,
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
  deleteTraceSearchBefore: `DELETE FROM trace_search WHERE (service_id, start_ns, chunk_id) IN (
    SELECT service_id, start_ns, chunk_id FROM trace_search WHERE service_id = ? AND start_ns < ? LIMIT ?)`,
  deleteLatencyMinutesBefore: 'DELETE FROM latency_minutes WHERE minute < ?',
  deleteLatencyHoursBefore: 'DELETE FROM latency_hours WHERE hour < ?',
  serviceIds: 'SELECT id FROM services',
  pageCount: 'PRAGMA page_count',
  freelistCount: 'PRAGMA freelist_count',
  pageSize: 'PRAGMA page_size',
} as const;

export const READER_SQL = {
  services: 'SELECT id, name FROM services ORDER BY name',
  spanNames: 'SELECT id, name FROM span_names',
  serviceSpanCounts: `SELECT ls.service_id AS service_id, sum(lh.count) AS spans
    FROM latency_hours lh JOIN latency_series ls ON ls.id = lh.series_id GROUP BY ls.service_id`,
  serviceIdByName: 'SELECT id FROM services WHERE name = ?',
  spanNameIdByName: 'SELECT id FROM span_names WHERE name = ?',
  // Newest first; the caller filters the packed operations and stops once it has enough traces.
  searchByService: `SELECT trace_id, start_ns, ops FROM trace_search
    WHERE service_id = @service AND start_ns >= @start AND start_ns <= @end
      AND max_duration_ns >= @minDuration AND error_count >= @minErrors
    ORDER BY start_ns DESC`,
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
} as const;
