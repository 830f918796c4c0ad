import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../helpers/daemon.js';
import { REPO_ROOT } from '../helpers/spawn-daemon.js';
import { encodeRequest, simpleSpans } from '../helpers/otlp-raw.js';
import { grpcExport, request } from '../helpers/auth-clients.js';

/**
 * The real `spanlens serve` process: start-up refusals exit non-zero with a message that says what to
 * do, and no token secret ever reaches the log, whatever requests come in (trace level, the
 * production logger with its redaction).
 */

interface Run {
  code: Promise<number | null>;
  stderr: () => string;
  ports: Promise<{ grpc: number; http: number; api: number }>;
  stop: () => void;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  const ports: Partial<Record<'grpc' | 'http' | 'api', number>> = {};
  let ready: (p: { grpc: number; http: number; api: number }) => void = () => {};
  const portsReady = new Promise<{ grpc: number; http: number; api: number }>((resolve) => (ready = resolve));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    text += chunk;
    for (const line of chunk.split('\n')) {
      const m = /"msg":"(OTLP\/gRPC receiver|OTLP\/HTTP receiver|API) listening"/.exec(line);
      const port = Number(/"endpoint":"[^"]*:(\d+)"/.exec(line)?.[1]);
      if (m?.[1] === 'API') ports.api = port;
      else if (m?.[1]?.startsWith('OTLP/gRPC')) ports.grpc = port;
      else if (m?.[1]?.startsWith('OTLP/HTTP')) ports.http = port;
      if (line.includes('"msg":"spanlens started"')) ready(ports as { grpc: number; http: number; api: number });
    }
  });
  const code = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const reap = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  return { code, stderr: () => text, ports: portsReady, stop: () => child.kill('SIGTERM') };
}

const LOOPBACK = ['--otlp-grpc', '127.0.0.1:0', '--otlp-http', '127.0.0.1:0', '--api', '127.0.0.1:0'];

let tmp: string;
beforeAll(() => {
  tmp = makeTempDir('spanlens-auth-proc-');
});
afterAll(() => removeDir(tmp));

describe('start-up refusals', () => {
  it('a listener off loopback without a token that covers it: exit 1 with what to do', async () => {
    const r = run(['--otlp-grpc', '127.0.0.1:0', '--otlp-http', '0.0.0.0:0', '--api', '127.0.0.1:0', '--data', path.join(tmp, 'a')]);
    expect(await r.code).toBe(1);
    expect(r.stderr()).toContain('receivers.otlp.http.endpoint 0.0.0.0:0 is off loopback but no token with role ingest protects it');
    expect(r.stderr()).toContain('auth.allowUnauthenticatedNonLoopback');
  }, 30_000);

  it('a token secret in an unset environment variable: exit non-zero naming the config path', async () => {
    const config = path.join(tmp, 'missing-env.yaml');
    writeFileSync(config, 'auth:\n  tokens:\n    - { name: app, role: ingest, env: SPANLENS_TEST_UNSET_TOKEN }\n');
    const r = run([...LOOPBACK, '--data', path.join(tmp, 'b'), '--config', config]);
    expect(await r.code).not.toBe(0);
    expect(r.stderr()).toContain('auth.tokens.0.env: environment variable SPANLENS_TEST_UNSET_TOKEN is not set');
  }, 30_000);

  it('SPANLENS_ALLOW_UNAUTHENTICATED=true is the explicit override', async () => {
    const r = run(['--otlp-grpc', '127.0.0.1:0', '--otlp-http', '0.0.0.0:0', '--api', '127.0.0.1:0', '--data', path.join(tmp, 'c')], { SPANLENS_ALLOW_UNAUTHENTICATED: 'true' });
    await r.ports;
    r.stop();
    expect(await r.code).toBe(0);
  }, 30_000);
});

describe('secrets in logs', () => {
  it('no secret appears in the trace-level log, for accepted and refused requests on every listener', async () => {
    const secrets = {
      file: 'file-secret-AAAAAAAAAAAAAAAAAAAA',
      env: 'env-secret-BBBBBBBBBBBBBBBBBBBB',
      inline: 'inline-secret-CCCCCCCCCCCCCCCCCCCC',
      container: 'container-secret-DDDDDDDDDDDDDDDD',
      wrong: 'wrong-secret-EEEEEEEEEEEEEEEEEEEE',
    };
    writeFileSync(path.join(tmp, 'read.token'), secrets.file);
    const config = path.join(tmp, 'tokens.yaml');
    writeFileSync(config, [
      'auth:',
      '  tokens:',
      `    - { name: dashboard, role: read, file: ${path.join(tmp, 'read.token')} }`,
      '    - { name: ops, role: admin, env: SPANLENS_TEST_ADMIN_TOKEN }',
      `    - { name: legacy, role: ingest, secret: ${secrets.inline} }`,
      '',
    ].join('\n'));
    const r = run([...LOOPBACK, '--data', path.join(tmp, 'd'), '--config', config, '--log-level', 'trace'], {
      SPANLENS_TEST_ADMIN_TOKEN: secrets.env,
      SPANLENS_INGEST_TOKEN: secrets.container,
    });
    const ports = await r.ports;
    const body = encodeRequest('log-check', simpleSpans(1));
    for (const s of Object.values(secrets)) {
      const auth = `Bearer ${s}`;
      await grpcExport(`127.0.0.1:${ports.grpc}`, body, auth);
      await request(`http://127.0.0.1:${ports.http}/v1/traces`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', Authorization: auth } });
      await request(`http://127.0.0.1:${ports.api}/api/services`, { headers: { Authorization: auth } });
      await request(`http://127.0.0.1:${ports.api}/mcp`, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: auth },
      });
    }
    // The inline secret was accepted on OTLP (sanity: the requests above really were authenticated).
    expect((await grpcExport(`127.0.0.1:${ports.grpc}`, body, `Bearer ${secrets.inline}`)).code).toBe(0);
    r.stop();
    expect(await r.code).toBe(0);
    const log = r.stderr();
    expect(log).toContain('token \\"legacy\\" has its secret inline');
    for (const s of Object.values(secrets)) expect(log).not.toContain(s);
    expect(log).not.toMatch(/Bearer /);
  }, 60_000);
});
