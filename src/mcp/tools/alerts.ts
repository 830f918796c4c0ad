import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AlertHistoryEntry, AlertOverviewRow, AlertsPort } from '../../store/ports.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, iso, metaSchema } from '../result.js';

const row = z.looseObject({}).describe('name, state, since, value, expr, severity');
const event = z.looseObject({}).describe('at, rule, from, to, receiver, attempt, ok');

export function alertsPort(deps: McpDeps): AlertsPort {
  if (!deps.alerts) throw new ToolError('alerting is not running in this daemon');
  return deps.alerts;
}

export function alertRow(r: AlertOverviewRow): Record<string, unknown> {
  return {
    name: r.name, state: r.state, since: r.sinceMs === null ? null : iso(r.sinceMs), value: r.value, expr: r.expr, type: r.type,
    severity: r.severity, for_ms: r.forMs, source: r.source, receivers: r.receivers,
    ...(r.lastEvalMs !== null ? { evaluated: iso(r.lastEvalMs) } : {}), ...(r.note !== undefined ? { note: r.note } : {}),
  };
}

const eventRow = ({ atMs, ...rest }: AlertHistoryEntry): Record<string, unknown> => ({ at: iso(atMs), ...rest });

export function registerAlerts(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'alerts',
    {
      description: 'Alert rules, states (firing first), recent state changes and webhook attempts.',
      inputSchema: z.object({
        rule: z.string().optional(),
        history: z.number().int().min(0).max(50).optional(),
        ...budgetInput,
      }),
      outputSchema: z.object({ alerts: z.array(row), history: z.array(event), meta: metaSchema, hints: z.array(z.string()) }),
    },
    async (args) => {
      const port = alertsPort(deps);
      const { alerts, history } = await port.overview({ historyLimit: args.history ?? 10, ...(args.rule !== undefined ? { rule: args.rule } : {}) });
      if (args.rule !== undefined && alerts.length === 0) {
        const all = (await port.overview({ historyLimit: 0 })).alerts.map((a) => a.name);
        throw new ToolError(`no alert rule "${args.rule}"; rules: ${all.join(', ') || '(none: add one with manage_alert_rule)'}`);
      }
      const budget = budgetOf(args.max_bytes, deps.limits);
      // Rules come first: history (newest first) gets at most half the budget.
      const events = history.map(eventRow);
      while (events.length > 0 && Buffer.byteLength(JSON.stringify(events)) > budget / 2) events.pop();
      return boundedResult({
        rows: alerts.map(alertRow), offset: 0, limit: Math.max(1, alerts.length), budget,
        build: (page) => ({ alerts: page, history: events }),
        summary: (page) => {
          const active = alerts.filter((a) => a.state === 'firing' || a.state === 'pending');
          if (alerts.length === 0) return 'No alert rules; add one with manage_alert_rule or alerting.rules in the config.';
          return `${alerts.length} rules, ${active.length} firing or pending${page.length > 0 ? `: ${page.slice(0, 3).map((a) => `${a.name} ${a.state} (${a.expr}, value ${a.value ?? 'no data'})`).join('; ')}` : ''}.`;
        },
        hints: alerts.length === 0 ? ['manage_alert_rule(action="upsert", name="checkout-p95", rule={type:"latency", service:"checkout", percentile:95, op:">", threshold:2000, for:"5m"})'] : [],
      });
    },
  );
}
