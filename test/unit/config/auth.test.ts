import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SpanlensConfigInput } from '../../../src/config/schema.js';
import { ConfigError, loadConfig, overridesFromEnv } from '../../../src/config/load.js';
import { resolveTokens } from '../../../src/config/auth-secrets.js';
import { listenerAuthenticators, UnprotectedListenerError } from '../../../src/access-policy.js';
import { TokenAuthenticator } from '../../../src/net/auth.js';
import { makeTempDir, removeDir } from '../../helpers/daemon.js';

const S = { ingest: 'ingest-0123456789abcdef', read: 'read-0123456789abcdef', admin: 'admin-0123456789abcdef' };
const parse = (input: SpanlensConfigInput) => configSchema.parse(input);

let tmp: string;
beforeAll(() => {
  tmp = makeTempDir('spanlens-auth-unit-');
});
afterAll(() => removeDir(tmp));

describe('TokenAuthenticator', () => {
  const auth = new TokenAuthenticator([
    { name: 'app', role: 'ingest', secret: S.ingest },
    { name: 'dash', role: 'read', secret: S.read },
    { name: 'ops', role: 'admin', secret: S.admin },
  ], true, 'read');

  it('grants ingest only to ingest tokens, read to read and admin, admin to admin', () => {
    const role = (secret: string, need: 'ingest' | 'read' | 'admin') => auth.authorize(`Bearer ${secret}`, need);
    expect(role(S.ingest, 'ingest')).toEqual({ ok: true, principal: { name: 'app', role: 'ingest' } });
    expect(role(S.admin, 'ingest')).toMatchObject({ ok: false, refusal: 'forbidden' });
    expect(role(S.read, 'ingest')).toMatchObject({ ok: false, refusal: 'forbidden' });
    expect(role(S.read, 'read')).toMatchObject({ ok: true, principal: { name: 'dash' } });
    expect(role(S.admin, 'read')).toMatchObject({ ok: true, principal: { name: 'ops' } });
    expect(role(S.ingest, 'read')).toMatchObject({ ok: false, refusal: 'forbidden' });
    expect(role(S.read, 'admin')).toMatchObject({ ok: false, refusal: 'forbidden' });
    expect(role(S.admin, 'admin')).toMatchObject({ ok: true });
  });

  it('refuses missing, malformed, prefix and longer tokens as unauthenticated, and never echoes the secret', () => {
    for (const header of [undefined, '', 'Bearer', `Basic ${S.read}`, `Bearer ${S.read.slice(0, -1)}`, `Bearer ${S.read}x`, `Bearer ${S.read} extra`]) {
      const d = auth.authorize(header, 'read');
      expect(d.ok, String(header)).toBe(false);
      if (!d.ok) {
        expect(d.refusal).toBe('unauthenticated');
        expect(d.message).not.toContain(S.read.slice(0, 8));
      }
    }
    expect(auth.authorize(`bearer   ${S.read}  `, 'read').ok).toBe(true);
  });

  it('an open listener takes everyone as anonymous with its default role', () => {
    const open = new TokenAuthenticator([], false, 'admin');
    expect(open.authorize(undefined, 'admin')).toEqual({ ok: true, principal: { name: 'anonymous', role: 'admin' } });
  });
});

describe('resolveTokens', () => {
  it('reads file (one trailing newline dropped) and env secrets, warns about inline ones and mcp.token, names problems by path', () => {
    writeFileSync(path.join(tmp, 'a.token'), `${S.ingest}\n`);
    const config = parse({
      auth: { tokens: [
        { name: 'app', role: 'ingest', file: path.join(tmp, 'a.token') },
        { name: 'dash', role: 'read', env: 'DASH_TOKEN' },
        { name: 'ops', role: 'admin', secret: S.admin },
      ] },
      mcp: { token: 'mcp-0123456789abcdef' },
    });
    const { tokens, warnings } = resolveTokens(config, { DASH_TOKEN: S.read });
    expect(tokens).toEqual([
      { name: 'app', role: 'ingest', secret: S.ingest },
      { name: 'dash', role: 'read', secret: S.read },
      { name: 'ops', role: 'admin', secret: S.admin },
      { name: 'mcp.token', role: 'admin', secret: 'mcp-0123456789abcdef' },
    ]);
    expect(warnings.join('\n')).toContain('"ops"');
    expect(warnings.join('\n')).toContain('mcp.token');
    expect(warnings.join('\n')).not.toContain(S.admin);
  });

  it('lists every problem at once without any secret in the message', () => {
    writeFileSync(path.join(tmp, 'short.token'), 'short');
    const config = parse({
      auth: { tokens: [
        { name: 'a', role: 'ingest', file: path.join(tmp, 'missing.token') },
        { name: 'b', role: 'read', env: 'UNSET_VAR' },
        { name: 'c', role: 'read', file: path.join(tmp, 'short.token') },
        { name: 'd', role: 'admin', secret: S.admin },
        { name: 'e', role: 'read', secret: S.admin },
      ] },
    });
    let error: ConfigError | undefined;
    try {
      resolveTokens(config, {});
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      expect.stringMatching(/^auth\.tokens\.0\.file: cannot read .*ENOENT/),
      'auth.tokens.1.env: environment variable UNSET_VAR is not set',
      expect.stringMatching(/^auth\.tokens\.2: the secret of token "c" must be at least 16 characters/),
      'auth.tokens: tokens "d" and "e" have the same secret',
    ]);
    expect(error!.message).not.toContain(S.admin);
    expect(error!.message).not.toContain('short"');
  });

  it('the schema wants exactly one secret source and unique names', () => {
    const r = configSchema.safeParse({ auth: { tokens: [{ name: 'a', role: 'read' }, { name: 'a', role: 'read', env: 'X', secret: S.read }] } });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual(expect.arrayContaining([
      expect.stringMatching(/^auth\.tokens\.0: give exactly one of/),
      expect.stringMatching(/^auth\.tokens\.1: give exactly one of/),
    ]));
  });
});

describe('environment tokens for containers', () => {
  it('SPANLENS_*_TOKEN add one token per role by variable name; SPANLENS_ALLOW_UNAUTHENTICATED sets the override', () => {
    const env = { SPANLENS_INGEST_TOKEN: S.ingest, SPANLENS_ADMIN_TOKEN: S.admin, SPANLENS_ALLOW_UNAUTHENTICATED: 'true' };
    const config = loadConfig(undefined, overridesFromEnv(env));
    expect(config.auth.tokens).toEqual([
      { name: 'env-ingest', role: 'ingest', env: 'SPANLENS_INGEST_TOKEN' },
      { name: 'env-admin', role: 'admin', env: 'SPANLENS_ADMIN_TOKEN' },
    ]);
    expect(JSON.stringify(config)).not.toContain(S.ingest);
    expect(config.auth.allowUnauthenticatedNonLoopback).toBe(true);
    expect(resolveTokens(config, env).tokens.map((t) => t.secret)).toEqual([S.ingest, S.admin]);
  });
});

describe('listenerAuthenticators', () => {
  const tokens = (roles: ('ingest' | 'read' | 'admin')[]) => roles.map((role, i) => ({ name: `t${i}`, role, secret: `${role}-0123456789abcdef-${i}` }));

  it('loopback with no tokens: every listener open, the API anonymous caller is admin', () => {
    const a = listenerAuthenticators(parse({}), []);
    expect([a.otlpGrpc.enforced, a.otlpHttp.enforced, a.api.enforced]).toEqual([false, false, false]);
    expect(a.api.authorize(undefined, 'admin')).toMatchObject({ ok: true, principal: { name: 'anonymous', role: 'admin' } });
  });

  it('a listener enforces tokens when a token of a role that may use it exists', () => {
    const a = listenerAuthenticators(parse({}), tokens(['admin']));
    expect([a.otlpGrpc.enforced, a.otlpHttp.enforced, a.api.enforced]).toEqual([false, false, true]);
    const b = listenerAuthenticators(parse({}), tokens(['ingest']));
    expect([b.otlpGrpc.enforced, b.otlpHttp.enforced, b.api.enforced]).toEqual([true, true, false]);
  });

  it('refuses every unprotected off-loopback listener at once, unless mTLS guards it or the override is set', () => {
    const sidecar = { receivers: { otlp: { grpc: { endpoint: '0.0.0.0:4317' }, http: { endpoint: '[::]:4318' } } }, api: { endpoint: '0.0.0.0:4320' } };
    expect(() => listenerAuthenticators(parse(sidecar), [])).toThrow(UnprotectedListenerError);
    const refusal = (() => {
      try {
        listenerAuthenticators(parse(sidecar), tokens(['read']));
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(refusal).toContain('receivers.otlp.grpc.endpoint 0.0.0.0:4317 is off loopback but no token with role ingest');
    expect(refusal).toContain('receivers.otlp.http.endpoint [::]:4318');
    expect(refusal).not.toContain('api.endpoint');
    expect(() => listenerAuthenticators(parse(sidecar), tokens(['ingest', 'read']))).not.toThrow();
    expect(() => listenerAuthenticators(parse({ ...sidecar, auth: { allowUnauthenticatedNonLoopback: true } }), [])).not.toThrow();
    const mtls = { certFile: 'c', keyFile: 'k', clientCaFile: 'ca' };
    expect(() => listenerAuthenticators(parse({ receivers: { otlp: { grpc: { endpoint: '0.0.0.0:4317', tls: mtls }, http: { enabled: false, endpoint: '0.0.0.0:4318' } } } }), [])).not.toThrow();
    // Without a client CA, TLS alone authenticates nobody.
    expect(() => listenerAuthenticators(parse({ receivers: { otlp: { grpc: { endpoint: '0.0.0.0:4317', tls: { certFile: 'c', keyFile: 'k' } } } } }), [])).toThrow(/grpc/);
  });
});
