import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig, overridesFromEnv } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIG_DIR = path.join(ROOT, 'config');
const TMP = mkdtempSync(path.join(os.tmpdir(), 'spanlens-config-test-'));

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

let fileCounter = 0;
/** Writes YAML text to a fresh temporary file and returns its path. */
function yamlFile(text: string): string {
  const file = path.join(TMP, `config-${++fileCounter}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** The ConfigError's problem lines, failing the test if anything else (or nothing) is thrown. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const MIB = 1024 * 1024;
const DAY = 86_400_000;

describe('shipped config files', () => {
  const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml'));

  it('include default, sidecar and dev', () => {
    expect(files).toEqual(expect.arrayContaining(['default.yaml', 'sidecar.yaml', 'dev.yaml']));
  });

  it.each(files)('%s loads and validates', (name) => {
    const config = loadConfig(path.join(CONFIG_DIR, name));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.storage.retention)).toBe(true);
  });

  it('default.yaml states exactly the built-in defaults', () => {
    expect(loadConfig(path.join(CONFIG_DIR, 'default.yaml'))).toEqual(loadConfig(undefined));
  });

  it('default.yaml spells out every option of the schema, each with a comment', () => {
    const leafPaths = (node: unknown, prefix: string[] = []): string[] =>
      typeof node === 'object' && node !== null
        ? Object.entries(node).flatMap(([key, child]) => leafPaths(child, [...prefix, key]))
        : [prefix.join('.')];
    const text = readFileSync(path.join(CONFIG_DIR, 'default.yaml'), 'utf8');
    const inSchema = leafPaths(configSchema.parse({})).sort();
    // The file itself, not the schema's defaults filling in what it leaves out.
    const inFile = leafPaths(parseYaml(text)).sort();
    expect(inSchema.length).toBeGreaterThan(20);
    expect(inFile).toEqual(inSchema);
    // Each option line is directly preceded by a comment line.
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (/^\s*\w+:\s*\S/.test(line)) expect(lines[i - 1], `no comment above "${line.trim()}"`).toMatch(/^\s*#/);
    });
  });

  it('sidecar.yaml binds every listener on all interfaces and stores data in /data', () => {
    const config = loadConfig(path.join(CONFIG_DIR, 'sidecar.yaml'));
    expect(config.receivers.otlp.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(config.receivers.otlp.http.endpoint).toBe('0.0.0.0:4318');
    expect(config.api.endpoint).toBe('0.0.0.0:4320');
    expect(config.storage.dataDir).toBe('/data');
  });

  it('dev.yaml logs at debug with short retention in ./data', () => {
    const config = loadConfig(path.join(CONFIG_DIR, 'dev.yaml'));
    expect(config.log.level).toBe('debug');
    expect(config.storage.dataDir).toBe('./data');
    expect(config.storage.retention.maxAge).toBeLessThan(loadConfig(undefined).storage.retention.maxAge);
    expect(config.api.endpoint.startsWith('127.0.0.1:')).toBe(true);
  });
});

describe('deploy/ examples', () => {
  it('the spanlens.yaml in deploy/kubernetes-sidecar.yaml validates', () => {
    const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy', 'kubernetes-sidecar.yaml'), 'utf8'));
    const configMap = docs
      .map((d) => d.toJS() as { kind?: string; data?: Record<string, string> })
      .find((d) => d.kind === 'ConfigMap');
    const text = configMap?.data?.['spanlens.yaml'];
    expect(text).toBeDefined();
    const config = loadConfig(yamlFile(text as string));
    expect(config.storage.retention.maxSize).toBeLessThan(1024 * MIB);
  });
});

describe('defaults', () => {
  it('are loopback-only with ./data', () => {
    const config = loadConfig(undefined);
    expect(config.receivers.otlp.grpc.endpoint).toBe('127.0.0.1:4317');
    expect(config.receivers.otlp.http.endpoint).toBe('127.0.0.1:4318');
    expect(config.api.endpoint).toBe('127.0.0.1:4320');
    expect(config.storage.dataDir).toBe('./data');
    expect(config.log.level).toBe('info');
    expect(config.receivers.otlp.maxRequestSize).toBe(64 * MIB);
    expect(config.storage.retention.maxAge).toBe(7 * DAY);
  });

  it('an empty file is the defaults', () => {
    expect(loadConfig(yamlFile(''))).toEqual(loadConfig(undefined));
  });
});

describe('precedence: defaults < file < env < flags', () => {
  const file = (): string =>
    yamlFile(`
api: { endpoint: 127.0.0.1:5001 }
receivers: { otlp: { grpc: { endpoint: 127.0.0.1:5002 }, http: { endpoint: 127.0.0.1:5003 } } }
storage: { dataDir: /from/file }
log: { level: warn }
`);

  it('the file overrides the defaults, and keeps defaults for what it does not set', () => {
    const config = loadConfig(file());
    expect(config.api.endpoint).toBe('127.0.0.1:5001');
    expect(config.storage.dataDir).toBe('/from/file');
    expect(config.log.level).toBe('warn');
    expect(config.storage.retention.maxAge).toBe(7 * DAY);
    expect(config.receivers.otlp.http.tracesPath).toBe('/v1/traces');
  });

  it('the environment overrides the file', () => {
    const env = overridesFromEnv({
      SPANLENS_API: '127.0.0.1:6001',
      SPANLENS_OTLP_GRPC: '127.0.0.1:6002',
      SPANLENS_OTLP_HTTP: '127.0.0.1:6003',
      SPANLENS_DATA: '/from/env',
      SPANLENS_LOG_LEVEL: 'error',
    });
    const config = loadConfig(file(), env);
    expect(config.api.endpoint).toBe('127.0.0.1:6001');
    expect(config.receivers.otlp.grpc.endpoint).toBe('127.0.0.1:6002');
    expect(config.receivers.otlp.http.endpoint).toBe('127.0.0.1:6003');
    expect(config.storage.dataDir).toBe('/from/env');
    expect(config.log.level).toBe('error');
  });

  it('flags override the environment; what flags leave out stays from env and file', () => {
    const env = overridesFromEnv({ SPANLENS_API: '127.0.0.1:6001', SPANLENS_DATA: '/from/env' });
    const config = loadConfig(file(), env, { api: '127.0.0.1:7001', logLevel: 'trace' });
    expect(config.api.endpoint).toBe('127.0.0.1:7001');
    expect(config.log.level).toBe('trace');
    expect(config.storage.dataDir).toBe('/from/env');
    expect(config.receivers.otlp.grpc.endpoint).toBe('127.0.0.1:5002');
  });

  it('overrides apply without a file too', () => {
    const config = loadConfig(undefined, overridesFromEnv({ SPANLENS_DATA: '/env-only' }), { otlpHttp: '0.0.0.0:0' });
    expect(config.storage.dataDir).toBe('/env-only');
    expect(config.receivers.otlp.http.endpoint).toBe('0.0.0.0:0');
  });

  it('empty environment variables are ignored', () => {
    expect(overridesFromEnv({ SPANLENS_API: '', SPANLENS_DATA: '' })).toEqual({});
  });

  it('invalid override values are reported with their config path', () => {
    const problems = problemsOf(() => loadConfig(undefined, overridesFromEnv({ SPANLENS_API: 'not-an-endpoint' })));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^api\.endpoint: /);
  });
});

describe('log level from the environment', () => {
  it('honours OTEL_LOG_LEVEL, case-insensitively', () => {
    expect(loadConfig(undefined, overridesFromEnv({ OTEL_LOG_LEVEL: 'DEBUG' })).log.level).toBe('debug');
  });

  it('SPANLENS_LOG_LEVEL wins over OTEL_LOG_LEVEL', () => {
    const env = overridesFromEnv({ OTEL_LOG_LEVEL: 'debug', SPANLENS_LOG_LEVEL: 'warn' });
    expect(loadConfig(undefined, env).log.level).toBe('warn');
  });

  it('an unknown level is a config error on log.level', () => {
    const problems = problemsOf(() => loadConfig(undefined, overridesFromEnv({ OTEL_LOG_LEVEL: 'verbose' })));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^log\.level: /);
  });
});

describe('durations and sizes', () => {
  const load = (retention: string): ReturnType<typeof loadConfig>['storage']['retention'] =>
    loadConfig(yamlFile(`storage:\n  retention:\n${retention}`)).storage.retention;

  it.each([
    ['7d', 7 * DAY],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['1w', 7 * DAY],
    ['1.5h', 5_400_000],
    [90_000, 90_000],
  ])('duration %j → %d ms', (text, ms) => {
    expect(load(`    maxAge: ${JSON.stringify(text)}\n`).maxAge).toBe(ms);
  });

  it.each([
    ['64MiB', 64 * MIB],
    ['4GiB', 4 * 1024 * MIB],
    ['500MB', 500_000_000],
    ['512kb', 512_000],
    ['1024', 1024],
    [2048, 2048],
  ])('size %j → %d bytes', (text, bytes) => {
    expect(load(`    maxSize: ${JSON.stringify(text)}\n`).maxSize).toBe(bytes);
  });

  it('maxRequestSize accepts sizes too', () => {
    const config = loadConfig(yamlFile('receivers:\n  otlp:\n    maxRequestSize: 8MiB\n'));
    expect(config.receivers.otlp.maxRequestSize).toBe(8 * MIB);
  });

  it.each(['7 days', 'soon', '7d3', '', '-1s'])('rejects the duration %j', (text) => {
    const problems = problemsOf(() => load(`    maxAge: ${JSON.stringify(text)}\n`));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^storage\.retention\.maxAge: .*not a duration/);
  });

  it.each(['64 lightyears', 'big', '-5MB'])('rejects the size %j', (text) => {
    const problems = problemsOf(() => load(`    maxSize: ${JSON.stringify(text)}\n`));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^storage\.retention\.maxSize: .*not a size/);
  });
});

describe('invalid files', () => {
  it('lists every problem by its path and throws ConfigError', () => {
    const file = yamlFile(`
storage:
  retention:
    maxAge: forever
    maxSize: lots
api:
  endpoint: localhost
log:
  level: loud
`);
    let error: unknown;
    try {
      loadConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'api.endpoint',
      'log.level',
      'storage.retention.maxAge',
      'storage.retention.maxSize',
    ]);
    // The message has one line per problem, each naming its path.
    const lines = (error as ConfigError).message.split('\n').slice(1);
    expect(lines).toHaveLength(4);
    for (const p of problems) expect(lines).toContain(`  - ${p}`);
  });

  it('two bad fields give two problem lines', () => {
    const problems = problemsOf(() =>
      loadConfig(yamlFile('storage:\n  retention:\n    maxAge: nope\n  maxBatchSpans: 0\n')),
    );
    expect(problems).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('storage.retention.maxAge: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('storage.maxBatchSpans: '))).toBe(true);
  });

  it('rejects unknown keys with their path, at any depth', () => {
    const problems = problemsOf(() =>
      loadConfig(yamlFile('storage:\n  retention:\n    maxAgee: 7d\nreceiver: {}\napi:\n  port: 1\n')),
    );
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('storage.retention: '))).toMatch(/maxAgee/);
    expect(problems.find((p) => p.startsWith('api: '))).toMatch(/port/);
    expect(problems.find((p) => p.startsWith('(root): '))).toMatch(/receiver/);
  });

  it('rejects wrong types with their path', () => {
    const problems = problemsOf(() =>
      loadConfig(yamlFile('receivers:\n  otlp:\n    grpc:\n      enabled: "yes"\n    http:\n      tracesPath: v1/traces\n')),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'receivers.otlp.grpc.enabled',
      'receivers.otlp.http.tracesPath',
    ]);
  });

  it('reports a missing file', () => {
    const problems = problemsOf(() => loadConfig(path.join(TMP, 'does-not-exist.yaml')));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('does-not-exist.yaml');
  });

  it('reports YAML syntax errors', () => {
    const problems = problemsOf(() => loadConfig(yamlFile('storage: [unclosed\n')));
    expect(problems[0]).toMatch(/not valid YAML/);
  });

  it('requires a mapping at the top level', () => {
    const problems = problemsOf(() => loadConfig(yamlFile('- a\n- b\n')));
    expect(problems[0]).toMatch(/top level must be a mapping/);
  });
});

// ---------------------------------------------------------------------------------------------------
// The CLI, as a child process. Argument and config handling run from the sources
// (`node --import tsx src/main.ts`). The cases that open the store run the compiled daemon instead
// (built once into a temporary directory, like the Docker image runs dist/): from the sources the
// store's writer worker (src/store/sqlite/writer-worker.ts) cannot load on Node 20, which does not let
// a worker thread register tsx's module hooks, so `serve` would die before binding any port.

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without any SPANLENS_* / OTEL_LOG_LEVEL from the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('SPANLENS_') && k !== 'OTEL_LOG_LEVEL') env[k] = v;
  }
  return { ...env, ...extra };
}

const FROM_SOURCE = ['--import', 'tsx', 'src/main.ts'];

function run(command: string[], args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...command, ...args],
      { cwd: ROOT, env: cleanEnv(env), timeout: 20_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/**
 * Compiles src/ with tsconfig.build.json into <tmp>/build/dist, next to links to proto/ and
 * node_modules/ (the daemon loads ../../proto/ relative to dist/codec/). Returns the main.js path.
 */
function buildDaemon(): Promise<string> {
  const out = path.join(TMP, 'build');
  mkdirSync(out, { recursive: true });
  symlinkSync(path.join(ROOT, 'proto'), path.join(out, 'proto'), 'dir');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  writeFileSync(path.join(out, 'package.json'), readFileSync(path.join(ROOT, 'package.json')));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(out, 'dist'), '--sourceMap', 'false'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tsc failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(path.join(out, 'dist', 'main.js'));
    });
  });
}

async function withBlockedPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const blocker = net.createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(0, '127.0.0.1', resolve);
  });
  try {
    return await use((blocker.address() as net.AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
}

describe('CLI from the sources', { timeout: 30_000 }, () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await run(FROM_SOURCE, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: spanlens serve');
    expect(r.stdout).toContain('--config FILE');
  });

  it('serve --config <bad file> exits 2 and lists every problem', async () => {
    const file = yamlFile('storage:\n  retention:\n    maxAge: forever\napi:\n  endpoint: nowhere\n  extra: 1\n');
    const r = await run(FROM_SOURCE, ['serve', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid configuration');
    expect(r.stderr).toMatch(/^\s+- storage\.retention\.maxAge: /m);
    expect(r.stderr).toMatch(/^\s+- api\.endpoint: /m);
    expect(r.stderr).toMatch(/^\s+- api: .*extra/m);
    expect(r.stderr.match(/^\s+- /gm)).toHaveLength(3);
  });

  it('a bad SPANLENS_* variable exits 2 naming the config path', async () => {
    const r = await run(FROM_SOURCE, ['serve'], { SPANLENS_LOG_LEVEL: 'chatty' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/- log\.level: /);
  });

  it('an unknown flag or command exits 2 with the usage', async () => {
    const flag = await run(FROM_SOURCE, ['serve', '--no-such-flag']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Usage: spanlens serve');
    const command = await run(FROM_SOURCE, ['frobnicate']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('CLI of the compiled daemon', { timeout: 30_000 }, () => {
  let main: string;
  beforeAll(async () => {
    main = await buildDaemon();
  }, 120_000);

  it('a port already in use (--api) exits 1 saying "address already in use"', async () => {
    await withBlockedPort(async (port) => {
      const dataDir = mkdtempSync(path.join(TMP, 'data-'));
      const r = await run([main], [
        'serve',
        '--api', `127.0.0.1:${port}`,
        '--otlp-grpc', '127.0.0.1:0',
        '--otlp-http', '127.0.0.1:0',
        '--data', dataDir,
      ]);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('address already in use');
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
    });
  });

  it('a port already in use (--otlp-http) also exits 1, after stopping what had started', async () => {
    await withBlockedPort(async (port) => {
      const dataDir = mkdtempSync(path.join(TMP, 'data-'));
      const r = await run([main], [
        'serve',
        '--api', '127.0.0.1:0',
        '--otlp-grpc', '127.0.0.1:0',
        '--otlp-http', `127.0.0.1:${port}`,
        '--data', dataDir,
      ]);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('address already in use');
    });
  });

  it('serve on free loopback ports answers /healthz and /readyz and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(TMP, 'data-'));
    const child = spawn(process.execPath, [main, 'serve', '--data', dataDir], {
      cwd: ROOT,
      env: cleanEnv({
        SPANLENS_API: '127.0.0.1:0',
        SPANLENS_OTLP_GRPC: '127.0.0.1:0',
        SPANLENS_OTLP_HTTP: '127.0.0.1:0',
        SPANLENS_LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The API logs its bound address: {"component":"api","endpoint":"127.0.0.1:PORT","msg":"API listening"}.
      const apiPort = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "API listening" line; stderr:\n${stderr}`)), 20_000);
        child.stderr.on('data', (chunk: string) => {
          stderr += chunk;
          const m = /"endpoint":"127\.0\.0\.1:(\d+)","msg":"API listening"/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.once('exit', () => {
          clearTimeout(timer);
          reject(new Error(`exited early; stderr:\n${stderr}`));
        });
      });
      const health = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');
      const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
      expect(ready.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
