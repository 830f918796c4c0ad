import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { metaSchema, singleResult } from '../result.js';
import { alertRow, alertsPort } from './alerts.js';

export function registerManageAlertRule(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'manage_alert_rule',
    {
      description: 'Upsert or delete an alert rule (as in config alerting.rules).',
      inputSchema: z.object({
        action: z.enum(['upsert', 'delete']),
        name: z.string(),
        rule: z.looseObject({}).optional().describe('type latency|error_rate|metric|burn_rate; service, operation, percentile, select, denominator, slo, window, op, threshold, for, receivers'),
      }),
      outputSchema: z.object({ rule: z.looseObject({}), meta: metaSchema, hints: z.array(z.string()) }),
      writes: true,
      // destructiveHint defaults to true for a tool that is not read-only; spelling it out costs tools/list bytes.
      annotations: { readOnlyHint: false, idempotentHint: true },
    },
    async (args) => {
      const port = alertsPort(deps);
      if (args.action === 'delete') {
        const done = await port.deleteRule(args.name);
        if (!done.ok) throw new ToolError(done.error);
        return singleResult({ rule: { action: 'deleted', name: args.name } }, `Deleted alert rule ${args.name}.`, ['alerts()']);
      }
      if (args.rule === undefined) throw new ToolError('upsert needs rule, e.g. rule={type:"latency", service:"checkout", percentile:95, op:">", threshold:2000, for:"5m"}');
      const saved = await port.upsertRule({ ...args.rule, name: args.name });
      if (!saved.ok) throw new ToolError(saved.error);
      return singleResult(
        { rule: { action: saved.created ? 'created' : 'replaced', ...alertRow(saved.rule) } },
        `${saved.created ? 'Created' : 'Replaced'} alert rule ${args.name}: ${saved.rule.expr}. Evaluated from the next interval.`,
        [`alerts(rule="${args.name}")`],
      );
    },
  );
}
