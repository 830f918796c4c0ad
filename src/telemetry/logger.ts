import pino, { type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Logs go to stderr (fd 2) always: under `spanlens mcp` stdout carries the MCP protocol. Components log
 * through child loggers ({component: 'receiver/otlp-grpc'}) and only for lifecycle events, never per request.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'spanlens' } }, pino.destination({ fd: 2, sync: false }));
}
