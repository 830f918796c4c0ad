/**
 * What SLO evaluation needs from a store (the store implements these; store/ports.ts re-exports them).
 * Declared here because analysis may not import the store.
 */
import type { LatencyDistribution } from './latency.js';
import type { SloDefinition } from './slo.js';

/**
 * Per-minute request counts of one operation, from the HDR latency series. Time is in epoch minutes
 * (⌊ms / 60 000⌋); a span counts in the minute its start time falls in (the series' key).
 */
export interface SloBucketQuery {
  service: string;
  /** One span name only; all of the service's when absent. */
  operation?: string | undefined;
  /** OTLP span kinds counted as requests. */
  kinds: readonly number[];
  /** Latency thresholds (µs): each bucket reports how many spans took at most this long. */
  thresholdsUs: readonly number[];
  /** First minute wanted (inclusive). */
  fromMinute: number;
  /** Last minute wanted (inclusive). */
  toMinute: number;
  /**
   * Epoch hours read from minute rows (the hours holding a window edge, within minute retention); every
   * other hour comes from its hour row, and only when it starts at or after fromMinute.
   */
  minuteHours: readonly number[];
  /** The merged latency distribution covers buckets starting at or after this minute. */
  latencyFromMinute: number;
}

export interface SloBucket {
  /** Index into SloBucketResult.operations. */
  op: number;
  /** Epoch minute of the bucket's first minute. */
  minute: number;
  /** 1 (a minute row) or 60 (an hour row). */
  minutes: number;
  total: number;
  /** Spans whose status is ERROR. */
  errors: number;
  /** Per threshold of the query: spans of at most that duration (HDR: a lower bound within one bucket, see slo-events.ts). */
  good: number[];
}

export interface SloBucketResult {
  /** False when no span of the service was ever stored. */
  serviceKnown: boolean;
  operations: string[];
  /** Ordered by minute. */
  buckets: SloBucket[];
  /** Every counted span from latencyFromMinute on, merged. */
  latency: LatencyDistribution;
}

export interface SloEventReader {
  sloBuckets(query: SloBucketQuery): Promise<SloBucketResult>;
}

export type SloSource = 'config' | 'mcp';

export interface StoredSlo {
  definition: SloDefinition;
  /** The definition as written (config or manage_slo), re-validated when read. */
  raw: unknown;
  source: SloSource;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Why a write was refused; `problems` are path-qualified like config errors. */
export class SloDefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** The SLO definitions: config ones (read-only) and those managed over MCP, persisted. */
export interface SloCatalog {
  list(): Promise<StoredSlo[]>;
  get(name: string): Promise<StoredSlo | null>;
  /** Validates `raw` (the config shape); throws SloDefinitionError on a bad definition or a config SLO's name. */
  upsert(raw: unknown, nowMs: number): Promise<{ slo: StoredSlo; created: boolean }>;
  /** Throws SloDefinitionError for a config SLO; false when there is none of that name. */
  remove(name: string): Promise<boolean>;
}
