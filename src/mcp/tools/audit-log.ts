import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { parseTimeRange, TimeRangeError } from '../../analysis/time-range.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetOf, iso } from '../result.js';

// Lean on purpose (tools/list allotment 350 bytes): rows carry time, identity, role, transport, tool,
// writes, outcome, error, duration_ms, result_bytes, truncated, args_sha256, args (masked preview); meta and hints as
// everywhere. No cursor: up to 500 rows per call, older ones through GET /api/audit (JSON lines).
const output = z.object({ calls: z.array(z.looseObject({})) });
const MAX_ROWS = 500;

export function registerAuditLog(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'audit_log',
    {
      description: 'Admin: MCP tool calls, newest first.',
      inputSchema: z.object({ window: z.string().optional(), limit: z.number().optional() }),
      outputSchema: output,
    },
    async (args) => {
      if (deps.caller.role !== 'admin') {
        throw new ToolError(`audit_log needs an admin token; "${deps.caller.identity}" has role ${deps.caller.role}. Ask for a token with role admin.`);
      }
      if (deps.audit === undefined) throw new ToolError('the audit log is off (audit.enabled: false in the config)');
      let range;
      try {
        range = parseTimeRange({ window: args.window ?? null }, deps.now(), 86_400_000);
      } catch (err) {
        if (err instanceof TimeRangeError) throw new ToolError(err.message);
        throw err;
      }
      const limit = Math.max(1, Math.min(Math.floor(args.limit ?? 20), MAX_ROWS));
      const { entries, total } = await deps.audit.auditEntries({
        sinceMs: range.startMs, untilMs: range.endMs, limit, order: 'desc',
      });
      const rows = entries.map((e) => ({
        time: iso(e.timeMs), identity: e.identity, role: e.role, transport: e.transport, tool: e.tool, writes: e.writes, outcome: e.outcome,
        duration_ms: e.durationMs, result_bytes: e.resultBytes, truncated: e.truncated, args_sha256: e.argsSha256, args: e.argsPreview,
        ...(e.error !== undefined ? { error: e.error } : {}),
      }));
      // Only `limit` rows are read; a holey array as long as `total` makes meta.total and the "raise limit" hint right.
      const all = rows.slice();
      all.length = Math.max(total, rows.length);
      return boundedResult({
        rows: all, offset: 0, limit, budget: budgetOf(undefined, deps.limits),
        meta: { window: { start: iso(range.startMs), end: iso(range.endMs) } },
        build: (page) => ({ calls: page }),
        summary: (page, meta) => `${meta.total} tool calls in the window; ${page.filter((r) => r.outcome !== 'ok').length} of these ${page.length} refused or failed.`,
      });
    },
  );
}
