import { createHash, timingSafeEqual } from 'node:crypto';

/** Token roles: `ingest` may only export OTLP; `read` may use the API and read tools; `admin` may also read the audit log and write. */
export type Role = 'ingest' | 'read' | 'admin';

/** What a request needs. `ingest` is granted to ingest tokens only: an admin token cannot export (separate duties). */
export type Permission = 'ingest' | 'read' | 'admin';

export interface Principal {
  /** The token's name (never its secret); "anonymous" on a listener that enforces no tokens. */
  name: string;
  role: Role;
}

export type AccessDecision =
  | { ok: true; principal: Principal }
  | { ok: false; refusal: 'unauthenticated' | 'forbidden'; message: string };

/**
 * Decides one request from its raw `Authorization` value (HTTP header or gRPC `authorization` metadata).
 * Receivers, the API and MCP get one per listener from the composition root and never see the config.
 */
export interface Authenticator {
  /** False when the listener takes every request as anonymous (no token grants access to it). */
  readonly enforced: boolean;
  authorize(authorization: string | undefined, need: Permission): AccessDecision;
}

export interface TokenSecret {
  name: string;
  role: Role;
  secret: string;
}

export function grants(role: Role, need: Permission): boolean {
  if (need === 'ingest') return role === 'ingest';
  if (need === 'read') return role === 'read' || role === 'admin';
  return role === 'admin';
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Bearer tokens compared in constant time: the presented token and every known one are hashed with
 * SHA-256 first, so timingSafeEqual always compares 32 bytes and neither the length nor the position of
 * the first differing byte leaks; every token is compared (no early exit), so neither does which one matched.
 * Only digests are kept in memory after construction.
 */
export class TokenAuthenticator implements Authenticator {
  private readonly tokens: { name: string; role: Role; digest: Buffer }[];

  /**
   * @param enforced whether this listener requires a token at all; when not, every request is
   *   `anonymous` with `anonymousRole` and credentials are ignored.
   */
  constructor(
    tokens: readonly TokenSecret[],
    readonly enforced: boolean,
    private readonly anonymousRole: Role,
  ) {
    this.tokens = tokens.map((t) => ({ name: t.name, role: t.role, digest: sha256(t.secret) }));
  }

  authorize(authorization: string | undefined, need: Permission): AccessDecision {
    if (!this.enforced) return { ok: true, principal: { name: 'anonymous', role: this.anonymousRole } };
    const presented = bearerToken(authorization);
    if (presented === undefined) return { ok: false, refusal: 'unauthenticated', message: 'missing bearer token: send Authorization: Bearer <token>' };
    const digest = sha256(presented);
    let match: { name: string; role: Role } | undefined;
    for (const token of this.tokens) {
      if (timingSafeEqual(digest, token.digest) && match === undefined) match = token;
    }
    if (match === undefined) return { ok: false, refusal: 'unauthenticated', message: 'unknown bearer token' };
    if (!grants(match.role, need)) {
      return { ok: false, refusal: 'forbidden', message: `token "${match.name}" has role ${match.role}; this needs a token with role ${need === 'read' ? 'read or admin' : need}` };
    }
    return { ok: true, principal: { name: match.name, role: match.role } };
  }
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Loopback binds need no token: only local processes can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
