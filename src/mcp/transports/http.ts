import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from 'pino';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Caller } from '../deps.js';

export interface McpHttpSettings {
  /** The host the API port is bound to; loopback binds accept only loopback Host names. */
  bindHost: string;
  /** Extra Host names (without port) to accept, e.g. a sidecar's service name. */
  allowedHosts?: readonly string[];
  /** Bearer token every request must carry; required for MCP off loopback. */
  token?: string | undefined;
  /** mcp.allowWrites: HTTP callers may use write tools (SLOs, alert rules). */
  allowWrites?: boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Streamable HTTP at /mcp, stateless: every POST gets a fresh server and transport (tools keep no
 * session state), answered as JSON. Before the SDK sees a request, the Host and Origin headers are checked
 * against DNS rebinding: a web page on evil.example that resolves to 127.0.0.1 sends Host and Origin
 * evil.example, and is refused with 403.
 */
export class McpHttpHandler {
  private readonly allowed: Set<string>;
  private readonly token: Buffer | undefined;
  private readonly loopbackOnly: boolean;
  private readonly caller: Caller;

  constructor(
    private readonly createServer: (caller: Caller) => McpServer,
    settings: McpHttpSettings,
    private readonly logger: Logger,
  ) {
    const bind = settings.bindHost.replace(/^\[|\]$/g, '');
    this.allowed = new Set([...LOOPBACK_NAMES, bind, ...(settings.allowedHosts ?? [])].map((h) => h.toLowerCase()));
    if (bind === '0.0.0.0' || bind === '::') this.allowed.add('*');
    this.token = settings.token === undefined ? undefined : Buffer.from(settings.token);
    this.loopbackOnly = LOOPBACK_NAMES.has(bind) || bind.startsWith('127.');
    const identity = this.token === undefined ? 'anonymous' : 'mcp.token';
    this.caller = settings.allowWrites
      ? { transport: 'http', identity, role: 'admin', canWrite: true }
      : { transport: 'http', identity, role: 'read', canWrite: false, writeDenial: 'MCP over HTTP is read-only unless mcp.allowWrites is true in the config (stdio via `spanlens mcp` may always write)' };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = this.refusal(req);
    if (refusal !== null) {
      if (refusal.startsWith('missing or wrong bearer')) res.setHeader('WWW-Authenticate', 'Bearer');
      return reply(res, refusal.startsWith('missing or wrong bearer') ? 401 : 403, refusal);
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return reply(res, 405, 'this MCP endpoint is stateless: send JSON-RPC with POST');
    }
    const server = this.createServer(this.caller);
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

  /** Null when the token (if any), Host and Origin are acceptable, else the reason. */
  private refusal(req: IncomingMessage): string | null {
    if (this.token !== undefined) {
      const given = Buffer.from(/^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
      if (given.length !== this.token.length || !timingSafeEqual(given, this.token)) return 'missing or wrong bearer token (Authorization: Bearer <mcp.token>)';
    } else if (!this.loopbackOnly) {
      return 'MCP over HTTP off loopback needs a token: set mcp.token in the config';
    }
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
