import pino, { type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Logs go to stderr (fd 2) always: under `spanlens mcp` stdout carries the MCP protocol. Components log
 * through child loggers ({component: 'receiver/otlp-grpc'}) and only for lifecycle events, never per request.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'spanlens' }, redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } }, pino.destination({ fd: 2, sync: false }));
}

/**
 * Nothing in src logs credentials (tokens are logged by name only); this is the second line of defence
 * should an error or a request object carrying one ever be logged.
 */
export const REDACTED_PATHS = [
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', '*.*.headers.authorization',
  'secret', '*.secret', 'token', '*.token', 'metadata.authorization',
] as const;
