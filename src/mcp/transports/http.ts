import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from 'pino';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Caller } from '../deps.js';
import type { Authenticator, Principal } from '../../net/auth.js';

export interface McpHttpSettings {
  /** The host the API port is bound to; loopback binds accept only loopback Host names. */
  bindHost: string;
  /** Extra Host names (without port) to accept, e.g. a sidecar's service name. */
  allowedHosts?: readonly string[];
  /** The API listener's tokens: every request needs a read or admin token when it enforces them. */
  authenticator?: Authenticator;
  /** mcp.allowWrites: admin callers over HTTP may use write tools (SLOs, alert rules). */
  allowWrites?: boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Streamable HTTP at /mcp, stateless: every POST gets a fresh server and transport (tools keep no
 * session state), answered as JSON. Before the SDK sees a request, the Host and Origin headers are checked
 * against DNS rebinding: a web page on evil.example that resolves to 127.0.0.1 sends Host and Origin
 * evil.example, and is refused with 403. Each request's caller comes from its bearer token (identity =
 * token name, role = token role); on an API listener without tokens the caller is "anonymous".
 */
export class McpHttpHandler {
  private readonly allowed: Set<string>;
  private readonly loopbackOnly: boolean;

  constructor(
    private readonly createServer: (caller: Caller) => McpServer,
    private readonly settings: McpHttpSettings,
    private readonly logger: Logger,
  ) {
    const bind = settings.bindHost.replace(/^\[|\]$/g, '');
    this.allowed = new Set([...LOOPBACK_NAMES, bind, ...(settings.allowedHosts ?? [])].map((h) => h.toLowerCase()));
    if (bind === '0.0.0.0' || bind === '::') this.allowed.add('*');
    this.loopbackOnly = LOOPBACK_NAMES.has(bind) || bind.startsWith('127.');
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const access = this.settings.authenticator?.authorize(req.headers.authorization, 'read');
    if (access !== undefined && !access.ok) {
      if (access.refusal === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer realm="spanlens"');
      return reply(res, access.refusal === 'unauthenticated' ? 401 : 403, access.message);
    }
    const principal: Principal = access?.principal ?? { name: 'anonymous', role: this.loopbackOnly ? 'admin' : 'read' };
    const refusal = this.refusal(req);
    if (refusal !== null) return reply(res, 403, refusal);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return reply(res, 405, 'this MCP endpoint is stateless: send JSON-RPC with POST');
    }
    const server = this.createServer(this.callerOf(principal));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      this.logger.error({ err }, 'MCP request failed');
      if (!res.headersSent) reply(res, 500, 'internal error; see the spanlens log');
    }
  }

  /** Identity and role from the token; writes need the admin role and mcp.allowWrites. */
  private callerOf(principal: Principal): Caller {
    const base = { transport: 'http' as const, identity: principal.name, role: principal.role };
    if (principal.role === 'admin' && this.settings.allowWrites) return { ...base, canWrite: true };
    const writeDenial = principal.role !== 'admin'
      ? `"${principal.name}" has role ${principal.role}; writes need a token with role admin (and mcp.allowWrites: true)`
      : 'MCP over HTTP is read-only unless mcp.allowWrites is true in the config (stdio via `spanlens mcp` may always write)';
    return { ...base, canWrite: false, writeDenial };
  }

  /** Null when the Host and Origin are acceptable, else the reason. */
  private refusal(req: IncomingMessage): string | null {
    const host = hostnameOf(req.headers.host);
    if (host === null || (!this.allowed.has('*') && !this.allowed.has(host))) return `Host "${req.headers.host ?? ''}" is not allowed`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let originHost: string;
      try {
        originHost = new URL(origin).hostname.toLowerCase();
      } catch {
        return `Origin "${origin}" is not a URL`;
      }
      const sameHost = originHost === host || originHost === `[${host}]`;
      if (!sameHost && !(LOOPBACK_NAMES.has(originHost) && LOOPBACK_NAMES.has(host))) return `Origin "${origin}" is not allowed`;
    } else if (origin === 'null') return 'Origin "null" is not allowed';
    return null;
  }
}

function hostnameOf(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header.trim().toLowerCase());
  return match ? (match[1] as string) : null;
}

function reply(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
