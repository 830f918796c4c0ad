import { z } from 'zod';
import { byteSize, duration, endpoint } from './units.js';
import { alertingSchema } from './alert-schema.js';
import { slosSchema } from './slo-schema.js';
import { redactionSchema } from './redaction-schema.js';
import { auditSchema, authSchema, tlsSchema } from './auth-schema.js';

/**
 * The whole configuration, with every default. A YAML file, then SPANLENS_* / OTEL_* environment
 * variables, then command-line flags override it (see load.ts). Loopback by default: a sidecar that
 * must be reachable from other containers binds 0.0.0.0 explicitly (config/sidecar.yaml).
 */
export const configSchema = z
  .object({
    receivers: z
      .object({
        otlp: z
          .object({
            grpc: z
              .object({ enabled: z.boolean().default(true), endpoint: endpoint.default('127.0.0.1:4317'), tls: tlsSchema.optional() })
              .strict()
              .prefault({}),
            http: z
              .object({
                enabled: z.boolean().default(true),
                endpoint: endpoint.default('127.0.0.1:4318'),
                tracesPath: z.string().startsWith('/').default('/v1/traces'),
                metricsPath: z.string().startsWith('/').default('/v1/metrics'),
                tls: tlsSchema.optional(),
              })
              .strict()
              .prefault({}),
            /** Largest request after decompression (OTLP recommends 64 MiB). */
            maxRequestSize: byteSize.prefault(64 * 1024 * 1024),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    api: z.object({ endpoint: endpoint.default('127.0.0.1:4320'), tls: tlsSchema.optional() }).strict().prefault({}),
    /** Prometheus/OpenMetrics targets to scrape (env METRICS_ENDPOINT adds one). */
    scrape: z
      .object({
        targets: z
          .array(
            z
              .object({
                url: z.url({ protocol: /^https?$/ }),
                interval: duration.prefault('15s'),
                timeout: duration.prefault('10s'),
                /** Becomes service.name of the scraped metrics, like Prometheus' job label. */
                job: z.string().min(1).default('scrape'),
              })
              .strict()
              .refine((t) => t.timeout <= t.interval && t.interval > 0, { message: 'timeout must not exceed a non-zero interval' }),
          )
          .default([]),
        /** Largest exposition read from a target. */
        maxBodySize: byteSize.prefault('16MiB'),
      })
      .strict()
      .prefault({}),
    storage: z
      .object({
        dataDir: z.string().min(1).default('./data'),
        retention: z
          .object({
            maxAge: duration.prefault('7d'),
            maxSize: byteSize.prefault('4GiB'),
            latencyMinutesMaxAge: duration.prefault('2d'),
            latencyHoursMaxAge: duration.prefault('35d'),
            checkInterval: duration.prefault('30s'),
          })
          .strict()
          .prefault({}),
        /** Most spans per group-committed transaction. */
        maxBatchSpans: z.number().int().min(1).default(20_000),
        /**
         * How often a background thread copies the WAL into the database (PASSIVE checkpoints), sparing
         * the writer that work; 0 leaves it all to the writer's automatic checkpoint.
         */
        checkpointInterval: duration.prefault('250ms'),
        /** Recently stored span ids remembered to drop client re-sends. */
        dedupWindowSpans: z.number().int().min(0).default(200_000),
        /**
         * Hard cap on the database file in pages (SQLite max_page_count); unset = none. Meant for tests and
         * for a fixed quota: past it, writes fail with SQLITE_FULL exactly as on a full disk.
         */
        maxPages: z.number().int().min(1).optional(),
      })
      .strict()
      .prefault({}),
    latency: z
      .object({
        maxSeries: z.number().int().min(1).default(5_000),
        staleSeriesAfter: duration.prefault('1h'),
        flushInterval: duration.prefault('2s'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /** Distinct metric series kept; points of further new series go to an overflow series per metric. */
        maxSeries: z.number().int().min(1).default(10_000),
        /** Most data points per group-committed transaction. */
        maxBatchPoints: z.number().int().min(1).default(50_000),
      })
      .strict()
      .prefault({}),
    ingest: z
      .object({
        maxInflightSize: byteSize.prefault('256MiB'),
        maxInflightRequests: z.number().int().min(1).default(512),
        retryAfter: duration.prefault('1s'),
      })
      .strict()
      .prefault({}),
    mcp: z
      .object({
        /** Answer budget when a tool call gives no max_bytes. */
        defaultResponseSize: byteSize.prefault('8KiB'),
        /** No tool answer exceeds this (about 6k tokens at the default). */
        maxResponseSize: byteSize.prefault('24KiB'),
        /** Most traces one bulk analysis (bottlenecks, service map, errors) decodes. */
        maxAnalysisTraces: z.number().int().min(1).default(2000),
        /** Host names accepted at /mcp besides loopback and the bind address (DNS-rebinding check). */
        allowedHosts: z.array(z.string()).default([]),
        /** Shorthand for an admin token named "mcp.token" in auth.tokens (inline: prefer auth.tokens with file: or env:). */
        token: z.string().min(16).optional(),
        /** HTTP callers may use write tools (SLOs, alert rules); stdio always may. Off: HTTP is read-only. */
        allowWrites: z.boolean().default(false),
        /** A tool call running longer than this is abandoned with an error that asks for a narrower window. */
        queryTimeout: duration.prefault('10s'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    shutdown: z.object({ timeout: duration.prefault('10s') }).strict().prefault({}),
    /** Alert rules (SLO burn rate, latency, error rate, metric thresholds) and the webhooks they notify. */
    alerting: alertingSchema.prefault({}),
    /** SLO definitions (slo-schema.ts, config/slo-example.yaml); more can be added over MCP (manage_slo). */
    slos: slosSchema,
    /**
     * Memory budget of the whole daemon (env SPANLENS_MEMORY_LIMIT, flag --memory-limit), sized for a
     * sidecar. In-flight ingest and the largest request are bounded relative to it, and above 80 % RSS
     * exports are refused with retryable answers until memory falls again.
     */
    limits: z.object({ memory: byteSize.prefault('512MiB') }).strict().prefault({}),
    /** Secrets replaced at ingest, before anything is stored. */
    redaction: redactionSchema,
    auth: authSchema,
    audit: auditSchema,
  })
  .strict();

export type SpanlensConfig = z.output<typeof configSchema>;
export type SpanlensConfigInput = z.input<typeof configSchema>;
