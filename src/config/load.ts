import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type SpanlensConfig } from './schema.js';

/** Flags and environment variables that override the file; each maps to one config path. */
export interface ConfigOverrides {
  otlpGrpc?: string;
  otlpHttp?: string;
  api?: string;
  dataDir?: string;
  logLevel?: string;
  /** A Prometheus /metrics URL to scrape (env METRICS_ENDPOINT), added to scrape.targets. */
  metricsEndpoint?: string;
  /** limits.memory, e.g. "256MiB". */
  memoryLimit?: string;
  /** Tokens whose secret is in an environment variable (SPANLENS_INGEST_TOKEN …), appended to auth.tokens; only the variable's name is kept. */
  envTokens?: { name: string; role: 'ingest' | 'read' | 'admin'; env: string }[];
  /** auth.allowUnauthenticatedNonLoopback (env SPANLENS_ALLOW_UNAUTHENTICATED=true). */
  allowUnauthenticated?: boolean;
}

/** Containers configured by environment alone get one token per role from these variables. */
const ENV_TOKENS = [
  { env: 'SPANLENS_INGEST_TOKEN', name: 'env-ingest', role: 'ingest' },
  { env: 'SPANLENS_READ_TOKEN', name: 'env-read', role: 'read' },
  { env: 'SPANLENS_ADMIN_TOKEN', name: 'env-admin', role: 'admin' },
] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Environment variables spanlens reads; OTEL_LOG_LEVEL is the standard OpenTelemetry one. */
export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  const pick = (...names: string[]): string | undefined => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
    }
    return undefined;
  };
  const overrides = stripUndefined({
    otlpGrpc: pick('SPANLENS_OTLP_GRPC'),
    otlpHttp: pick('SPANLENS_OTLP_HTTP'),
    api: pick('SPANLENS_API'),
    dataDir: pick('SPANLENS_DATA'),
    logLevel: pick('SPANLENS_LOG_LEVEL', 'OTEL_LOG_LEVEL')?.toLowerCase(),
    metricsEndpoint: pick('METRICS_ENDPOINT'),
    memoryLimit: pick('SPANLENS_MEMORY_LIMIT'),
  });
  const envTokens = ENV_TOKENS.filter((t) => pick(t.env) !== undefined).map((t) => ({ name: t.name, role: t.role, env: t.env }));
  if (envTokens.length > 0) overrides.envTokens = envTokens;
  const allow = pick('SPANLENS_ALLOW_UNAUTHENTICATED');
  if (allow !== undefined) overrides.allowUnauthenticated = allow === 'true' || allow === '1';
  return overrides;
}

/**
 * Builds the effective configuration: defaults < file < env < flags. Every problem is reported with its
 * path (e.g. `storage.retention.maxAge`), all at once, and the result is deep-frozen.
 */
export function loadConfig(file: string | undefined, ...overrides: ConfigOverrides[]): SpanlensConfig {
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`${file}: ${(err as Error).message}`]);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message}`]);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError([`${file}: top level must be a mapping`]);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const o of overrides) applyOverrides(merged, o);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return deepFreeze(result.data);
}

function applyOverrides(target: Record<string, unknown>, o: ConfigOverrides): void {
  if (o.otlpGrpc !== undefined) setPath(target, ['receivers', 'otlp', 'grpc', 'endpoint'], o.otlpGrpc);
  if (o.otlpHttp !== undefined) setPath(target, ['receivers', 'otlp', 'http', 'endpoint'], o.otlpHttp);
  if (o.api !== undefined) setPath(target, ['api', 'endpoint'], o.api);
  if (o.dataDir !== undefined) setPath(target, ['storage', 'dataDir'], o.dataDir);
  if (o.logLevel !== undefined) setPath(target, ['log', 'level'], o.logLevel);
  if (o.metricsEndpoint !== undefined) addScrapeTarget(target, o.metricsEndpoint);
  if (o.memoryLimit !== undefined) setPath(target, ['limits', 'memory'], o.memoryLimit);
  if (o.allowUnauthenticated !== undefined) setPath(target, ['auth', 'allowUnauthenticatedNonLoopback'], o.allowUnauthenticated);
  if (o.envTokens !== undefined) {
    const auth = (typeof target['auth'] === 'object' && target['auth'] !== null ? target['auth'] : (target['auth'] = {})) as Record<string, unknown>;
    const tokens = Array.isArray(auth['tokens']) ? (auth['tokens'] as unknown[]) : (auth['tokens'] = []) as unknown[];
    tokens.push(...o.envTokens);
  }
}

/** Appends a target unless the file already scrapes that URL (then the file's interval and job win). */
function addScrapeTarget(target: Record<string, unknown>, url: string): void {
  const scrape = (typeof target['scrape'] === 'object' && target['scrape'] !== null ? target['scrape'] : (target['scrape'] = {})) as Record<string, unknown>;
  const targets = Array.isArray(scrape['targets']) ? (scrape['targets'] as unknown[]) : (scrape['targets'] = []) as unknown[];
  if (!targets.some((t) => typeof t === 'object' && t !== null && (t as { url?: unknown }).url === url)) targets.push({ url });
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function stripUndefined(value: Record<string, string | undefined>): ConfigOverrides {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as ConfigOverrides;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
