#!/usr/bin/env node
/**
 * The composition root and the only module that reads argv/env or exits the process.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, overridesFromEnv, type ConfigOverrides } from './config/load.js';
import { createLogger } from './telemetry/logger.js';
import { startSpanlens } from './service.js';
import { serveStdio } from './mcp/transports/stdio.js';
import type { LogLevel } from './telemetry/logger.js';
import path from 'node:path';
import { SqliteAuditStore } from './store/sqlite/audit-store.js';
import { AuditRoutes } from './api/audit-routes.js';

const USAGE = `Usage: spanlens serve [options]
       spanlens mcp [options]
       spanlens audit [--since 1h] [--config FILE] [--data DIR]

serve runs the daemon: OTLP/gRPC (default 127.0.0.1:4317), OTLP/HTTP (127.0.0.1:4318) and the API
(127.0.0.1:4320: /healthz, /readyz, /metrics, /api/*, MCP at /mcp). Data goes to ./data unless told otherwise.
mcp runs the same daemon and also speaks MCP on stdin/stdout (all logs go to stderr); it stops when
stdin closes:  claude mcp add spanlens -- npx spanlens mcp
METRICS_ENDPOINT=http://host:port/metrics adds a Prometheus target to scrape (see config/default.yaml).
audit prints the audit log of MCP tool calls as JSON lines, oldest first (--since: 1h, 7d, RFC3339).

Options (each overrides the config file and the environment):
  --config FILE        YAML config file (env SPANLENS_CONFIG); examples in config/
  --otlp-grpc HOST:PORT  (env SPANLENS_OTLP_GRPC)   port 0 picks a free port
  --otlp-http HOST:PORT  (env SPANLENS_OTLP_HTTP)
  --api HOST:PORT        (env SPANLENS_API)
  --data DIR             (env SPANLENS_DATA)
  --log-level LEVEL      fatal|error|warn|info|debug|trace|silent (env SPANLENS_LOG_LEVEL, OTEL_LOG_LEVEL)
  --memory-limit SIZE    memory budget, e.g. 512MiB (env SPANLENS_MEMORY_LIMIT)
  -h, --help
`;

const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        'otlp-grpc': { type: 'string' },
        'otlp-http': { type: 'string' },
        api: { type: 'string' },
        data: { type: 'string' },
        'log-level': { type: 'string' },
        'memory-limit': { type: 'string' },
        since: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`spanlens: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'serve';
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'serve' && command !== 'mcp' && command !== 'audit') {
    process.stderr.write(`spanlens: unknown command "${command}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }

  const flags: ConfigOverrides = {};
  if (values['otlp-grpc'] !== undefined) flags.otlpGrpc = values['otlp-grpc'];
  if (values['otlp-http'] !== undefined) flags.otlpHttp = values['otlp-http'];
  if (values.api !== undefined) flags.api = values.api;
  if (values.data !== undefined) flags.dataDir = values.data;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  if (values['memory-limit'] !== undefined) flags.memoryLimit = values['memory-limit'];

  let config;
  try {
    config = loadConfig(values.config ?? process.env.SPANLENS_CONFIG, overridesFromEnv(process.env), flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`spanlens: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }

  if (command === 'audit') return printAudit(config.storage.dataDir, values.since ?? '1h');

  const logger = createLogger(config.log.level as LogLevel);
  let service;
  try {
    service = await startSpanlens(config, logger, { env: process.env });
  } catch (err) {
    logger.fatal({ err }, `spanlens could not start: ${(err as Error).message}`);
    logger.flush();
    return 1;
  }

  return await new Promise<number>((resolve) => {
    if (command === 'mcp') {
      serveStdio(service.createMcpServer()).then(
        () => {
          logger.info('MCP client closed stdin: shutting down');
          return service.shutdown().then(() => resolve(0));
        },
        (err: unknown) => {
          logger.error({ err }, 'MCP stdio transport failed');
          void service.shutdown().finally(() => resolve(1));
        },
      );
    }
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
        resolve(1);
        return;
      }
      signalled = true;
      logger.info({ signal }, 'shutting down: draining in-flight exports');
      service.shutdown().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** `spanlens audit`: reads the data directory directly, so it works whether or not the daemon runs. */
async function printAudit(dataDir: string, since: string): Promise<number> {
  const logger = createLogger('warn');
  let store: SqliteAuditStore;
  try {
    store = new SqliteAuditStore(path.resolve(dataDir), { maxAgeMs: Number.MAX_SAFE_INTEGER, maxRows: Number.MAX_SAFE_INTEGER, flushIntervalMs: 3_600_000 }, logger);
  } catch (err) {
    process.stderr.write(`spanlens: cannot open the audit log in ${dataDir}: ${(err as Error).message} (has a spanlens of this version run there?)\n`);
    return 1;
  }
  try {
    const routes = new AuditRoutes(store, Date.now);
    for (let offset = 0; ; offset += 10_000) {
      const lines = await routes.jsonLines(new URLSearchParams({ since, limit: '10000', offset: String(offset) }));
      process.stdout.write(lines);
      if (lines.split('\n').length - 1 < 10_000) break;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`spanlens: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  } finally {
    await store.shutdown();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let pino's async destination drain before exiting.
    setTimeout(() => process.exit(code), 50).unref();
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`spanlens: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
