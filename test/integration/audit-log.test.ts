import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { startTestDaemon, makeTempDir, removeDir, type TestDaemon } from '../helpers/daemon.js';
import { connectStdio, callOk } from '../helpers/mcp-client.js';
import { request } from '../helpers/auth-clients.js';
import { REPO_ROOT } from '../helpers/spawn-daemon.js';
import { SqliteAuditStore } from '../../src/store/sqlite/audit-store.js';
import { auditEntryOf } from '../../src/mcp/audit-entry.js';
import { defineTool } from '../../src/mcp/register.js';
import { DEFAULT_MCP_LIMITS, type Caller, type McpDeps } from '../../src/mcp/deps.js';
import { singleResult } from '../../src/mcp/result.js';
import type { AuditEntry } from '../../src/store/ports.js';

/**
 * The audit log end to end: MCP calls over HTTP (token identities) and stdio (local) land in SQLite with
 * identity, outcome and an argument digest the test recomputes; write tools refused to a read caller are
 * recorded as refused; retention by age and row count; admin-only reads.
 */

const READ = 'audit-read-0123456789abcdef';
const ADMIN = 'audit-admin-0123456789abcdef';
const silent = pino({ level: 'silent' });
const execFileAsync = promisify(execFile);

/** Canonical JSON as the test understands it: keys sorted at every level. */
function sha256OfArgs(args: Record<string, unknown>): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sort(x)])) : v;
  return createHash('sha256').update(JSON.stringify(sort(args))).digest('hex');
}

async function mcpClient(apiUrl: string, secret: string): Promise<Client> {
  const client = new Client({ name: 'audit-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${apiUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
  return client;
}

async function auditLines(apiUrl: string, query = 'since=1h'): Promise<(AuditEntry & { time: string })[]> {
  const reply = await request(`${apiUrl}/api/audit?${query}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  expect(reply.status).toBe(200);
  return reply.body.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry & { time: string });
}

describe('audit log of MCP calls over HTTP', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startTestDaemon({
      config: { auth: { tokens: [{ name: 'dashboard', role: 'read', secret: READ }, { name: 'ops', role: 'admin', secret: ADMIN }] } } as never,
    });
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('records identity, role, tool, outcome and the argument digest; audit_log is refused to a read token and recorded so', async () => {
    const reader = await mcpClient(daemon.apiUrl, READ);
    const args = { window: '1h', service: 'no-such-service', sort_by: 'p99' };
    try {
      expect((await reader.callTool({ name: 'get_status', arguments: {} })).isError).toBeFalsy();
      expect((await reader.callTool({ name: 'list_operations', arguments: args })).isError).toBe(true);
      const refused = await reader.callTool({ name: 'audit_log', arguments: {} });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toContain('has role read');
    } finally {
      await reader.close();
    }
    const lines = await auditLines(daemon.apiUrl);
    expect(lines.map((l) => [l.identity, l.role, l.transport, l.tool, l.outcome])).toEqual([
      ['dashboard', 'read', 'http', 'get_status', 'ok'],
      ['dashboard', 'read', 'http', 'list_operations', 'refused'],
      ['dashboard', 'read', 'http', 'audit_log', 'refused'],
    ]);
    const ops = lines[1]!;
    expect(ops.argsSha256).toBe(sha256OfArgs(args));
    expect(ops.error).toContain('no-such-service');
    expect(ops.writes).toBe(false);
    expect(lines[0]!.resultBytes).toBeGreaterThan(0);
    expect(lines[0]!.durationMs).toBeGreaterThanOrEqual(0);
    // Oldest first, each line a time-stamped JSON object; `since` as an instant and a tool filter work too.
    expect(Date.parse(lines[0]!.time)).toBeLessThanOrEqual(Date.parse(lines[2]!.time));
    expect((await auditLines(daemon.apiUrl, `since=${encodeURIComponent(lines[1]!.time)}&tool=audit_log`)).map((l) => l.tool)).toEqual(['audit_log']);
  });

  it('admins read it over MCP, newest first', async () => {
    const admin = await mcpClient(daemon.apiUrl, ADMIN);
    try {
      const data = await callOk<{ calls: { identity: string; tool: string; outcome: string }[]; meta: { total: number } }>(admin, 'audit_log', { window: '1h', limit: 2 });
      expect(data.calls.map((c) => c.tool)).toEqual(['audit_log', 'list_operations']);
      expect(data.meta.total).toBe(3);
    } finally {
      await admin.close();
    }
  });

  it('a bad `since` is a 400 that says how to write it', async () => {
    const reply = await request(`${daemon.apiUrl}/api/audit?since=yesterday`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(reply.status).toBe(400);
    expect(reply.body.toString()).toContain('RFC3339');
  });
});

describe('audit log over stdio', () => {
  it('records the local user as admin on stdio; `spanlens audit` prints the log as JSON lines', async () => {
    const dataDir = makeTempDir('spanlens-audit-stdio-');
    try {
      const conn = await connectStdio(dataDir);
      try {
        await callOk(conn.client, 'get_status');
        const data = await callOk<{ calls: { identity: string; transport: string; role: string; tool: string }[] }>(conn.client, 'audit_log', {});
        expect(data.calls[0]).toMatchObject({ identity: 'local', transport: 'stdio', role: 'admin', tool: 'get_status' });
      } finally {
        await conn.close();
      }
      // The audit_log call's own row is written when the daemon stops (stdin closed): poll until it is.
      let lines: AuditEntry[] = [];
      for (let attempt = 0; attempt < 20 && lines.length < 2; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
        const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'audit', '--data', dataDir, '--since', '1h'], { cwd: REPO_ROOT });
        lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);
      }
      expect(lines.map((l) => [l.identity, l.tool, l.outcome])).toEqual([['local', 'get_status', 'ok'], ['local', 'audit_log', 'ok']]);
    } finally {
      removeDir(dataDir);
    }
  }, 60_000);
});

describe('write tools and the audit store', () => {
  let daemon: TestDaemon;
  let audit: SqliteAuditStore;
  beforeAll(async () => {
    daemon = await startTestDaemon();
    audit = new SqliteAuditStore(daemon.dataDir, { maxAgeMs: 3_600_000, maxRows: 5, flushIntervalMs: 60_000 }, silent);
  });
  afterAll(async () => {
    await audit?.shutdown();
    await daemon?.stop();
  });

  /** A server with one write tool, gated and observed by defineTool exactly as the real tools are. */
  async function callWrite(caller: Caller, args: Record<string, unknown>): Promise<boolean> {
    const deps: McpDeps = {
      spans: daemon.service.reader, latency: daemon.service.reader, metrics: daemon.service.metricReader as never,
      // Unused by the one test tool registered below.
      timeline: undefined as never, slos: daemon.service.slos,
      status: () => Promise.reject(new Error('unused')), now: Date.now, limits: DEFAULT_MCP_LIMITS, caller,
      onToolCall: (call) => audit.append(auditEntryOf(call, Date.now())),
    };
    const server = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {} } });
    defineTool(server, deps, 'set_slo', { description: 'test write', inputSchema: z.object({ name: z.string(), api_token: z.string().optional() }), outputSchema: z.object({ saved: z.boolean() }), writes: true },
      async () => singleResult({ saved: true }, 'saved'));
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(b);
    try {
      return !(await client.callTool({ name: 'set_slo', arguments: args })).isError;
    } finally {
      await client.close();
    }
  }

  it('a write refused to a read caller is recorded as refused, an admin write as ok; secret-looking arguments are masked', async () => {
    const denial = '"dashboard" has role read; writes need a token with role admin';
    expect(await callWrite({ transport: 'http', identity: 'dashboard', role: 'read', canWrite: false, writeDenial: denial }, { name: 'checkout' })).toBe(false);
    expect(await callWrite({ transport: 'http', identity: 'ops', role: 'admin', canWrite: true }, { name: 'checkout', api_token: 'sk-live-hunter2' })).toBe(true);
    const { entries } = await audit.auditEntries({ sinceMs: 0, limit: 10, order: 'asc' });
    expect(entries.map((e) => [e.identity, e.tool, e.writes, e.outcome])).toEqual([
      ['dashboard', 'set_slo', true, 'refused'],
      ['ops', 'set_slo', true, 'ok'],
    ]);
    expect(entries[0]!.error).toContain(denial);
    expect(entries[1]!.argsPreview).toContain('"api_token":"***"');
    expect(entries[1]!.argsPreview).not.toContain('hunter2');
    expect(entries[1]!.argsSha256).toBe(sha256OfArgs({ name: 'checkout', api_token: 'sk-live-hunter2' }));
  });

  it('keeps its own retention: rows older than maxAge and beyond maxRows go', async () => {
    const now = Date.now();
    const base: AuditEntry = { timeMs: now, transport: 'http', identity: 'x', role: 'read', tool: 't', writes: false, argsSha256: '', argsPreview: '{}', durationMs: 1, resultBytes: 1, truncated: false, outcome: 'ok' };
    for (let i = 0; i < 3; i++) audit.append({ ...base, identity: `old-${i}`, timeMs: now - 2 * 3_600_000 });
    for (let i = 0; i < 8; i++) audit.append({ ...base, identity: `new-${i}`, timeMs: now - 1000 + i });
    expect(audit.flush(now)).toBe(true);
    audit.retain(now);
    const { entries, total } = await audit.auditEntries({ sinceMs: 0, limit: 100, order: 'asc' });
    expect(total).toBe(5);
    expect(entries.map((e) => e.identity)).toEqual(['new-3', 'new-4', 'new-5', 'new-6', 'new-7']);
  });
});
