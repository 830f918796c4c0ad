/**
 * Composition-root helper: turns the auth config and the listener binds into one Authenticator per
 * listener, and refuses to start when a listener off loopback would take requests without credentials.
 */
import type { SpanlensConfig } from './config/schema.js';
import type { ResolvedToken } from './config/auth-secrets.js';
import { grants, isLoopbackHost, TokenAuthenticator, type Authenticator, type Permission } from './net/auth.js';
import { parseEndpoint } from './net/endpoint.js';

export interface ListenerAuthenticators {
  otlpGrpc: Authenticator;
  otlpHttp: Authenticator;
  api: Authenticator;
}

export class UnprotectedListenerError extends Error {
  override readonly name = 'UnprotectedListenerError';
}

/**
 * A listener enforces tokens when at least one token may use it (ingest tokens for OTLP, read or admin
 * tokens for the API). One that enforces none is open: fine on loopback, where only local processes
 * connect, and refused at start-up off loopback unless client certificates (mTLS) guard it or
 * auth.allowUnauthenticatedNonLoopback says so. An open API serves anonymous callers as admin on
 * loopback (the same trust as `spanlens mcp` on stdio) and as read-only elsewhere.
 */
export function listenerAuthenticators(config: SpanlensConfig, tokens: readonly ResolvedToken[]): ListenerAuthenticators {
  const otlp = config.receivers.otlp;
  const listeners: { key: keyof ListenerAuthenticators; label: string; enabled: boolean; endpoint: string; mtls: boolean; need: Permission }[] = [
    { key: 'otlpGrpc', label: 'receivers.otlp.grpc', enabled: otlp.grpc.enabled, endpoint: otlp.grpc.endpoint, mtls: otlp.grpc.tls?.clientCaFile !== undefined, need: 'ingest' },
    { key: 'otlpHttp', label: 'receivers.otlp.http', enabled: otlp.http.enabled, endpoint: otlp.http.endpoint, mtls: otlp.http.tls?.clientCaFile !== undefined, need: 'ingest' },
    { key: 'api', label: 'api', enabled: true, endpoint: config.api.endpoint, mtls: config.api.tls?.clientCaFile !== undefined, need: 'read' },
  ];
  const problems: string[] = [];
  const out: Partial<ListenerAuthenticators> = {};
  for (const l of listeners) {
    const enforced = tokens.some((t) => grants(t.role, l.need));
    const loopback = isLoopbackHost(parseEndpoint(l.endpoint).host);
    if (l.enabled && !enforced && !loopback && !l.mtls && !config.auth.allowUnauthenticatedNonLoopback) {
      const role = l.need === 'ingest' ? 'ingest' : 'read or admin';
      problems.push(
        `${l.label}.endpoint ${l.endpoint} is off loopback but no token with role ${role} protects it: add one to auth.tokens, ` +
          `require client certificates (${l.label}.tls.clientCaFile), bind 127.0.0.1, or set auth.allowUnauthenticatedNonLoopback: true`,
      );
    }
    out[l.key] = new TokenAuthenticator(tokens, enforced, loopback ? 'admin' : 'read');
  }
  if (problems.length > 0) throw new UnprotectedListenerError(`refusing to start: ${problems.join('; ')}`);
  return out as ListenerAuthenticators;
}
