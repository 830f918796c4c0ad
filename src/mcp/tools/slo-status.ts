import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { nearestNames } from '../../analysis/nearest-names.js';
import { evaluateSlo } from '../../analysis/slo-events.js';
import type { SloStatus } from '../../analysis/slo.js';
import type { StoredSlo } from '../../store/ports.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema, singleResult } from '../result.js';
import { sloDetail, sloLine, sloSummaryRow } from '../slo-view.js';

const row = z.looseObject({}).describe('name, service, period, verdict, requests, low_traffic, objectives[name, target, sli, budget_remaining, burn_1h, firing, state]; with slo: also budget and burn_rates per objective, alerts, top_consumers, latency_ms');
const output = z.object({ slos: z.array(row), meta: metaSchema, hints: z.array(z.string()) });
const RANK = { violated: 0, at_risk: 1, ok: 2 } as const;

export function registerSloStatus(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'slo_status',
    {
      description: 'SLOs over their period: attainment, error budget, burn rates 5m-3d, workbook alerts, verdict. slo: one in detail.',
      inputSchema: z.object({ slo: z.string().optional(), ...budgetInput }),
      outputSchema: output,
    },
    async (args) => {
      const now = deps.now();
      const all = await deps.slos.catalog.list();
      if (args.slo !== undefined) {
        const stored = all.find((s) => s.definition.name === args.slo);
        if (!stored) throw unknownSlo(args.slo, all);
        const status = await evaluate(deps, stored, now);
        const detail = sloDetail(stored, status, 5);
        // Over the byte budget (many latency objectives): keep the alerts that fire or lack traffic.
        if (Buffer.byteLength(JSON.stringify(detail)) > budgetOf(args.max_bytes, deps.limits) - 1024) {
          const alerts = detail['alerts'] as { firing: boolean; low_traffic: boolean }[];
          detail['alerts'] = alerts.filter((a) => a.firing || a.low_traffic);
          detail['alerts_omitted'] = `${alerts.length - (detail['alerts'] as unknown[]).length} quiet alert rows left out for the byte budget; raise max_bytes for all`;
        }
        return singleResult({ slos: [detail] }, sloLine(status), hintsFor(status));
      }
      const rated = await Promise.all(all.map(async (stored) => ({ stored, status: await evaluate(deps, stored, now) })));
      rated.sort((a, b) => RANK[a.status.verdict] - RANK[b.status.verdict] || minBudget(a.status) - minBudget(b.status) || a.stored.definition.name.localeCompare(b.stored.definition.name));
      const first = rated[0]?.status;
      return boundedResult({
        rows: rated, offset: 0, limit: 50, budget: budgetOf(args.max_bytes, deps.limits),
        build: (page) => ({ slos: page.map((r) => sloSummaryRow(r.stored, r.status)) }),
        summary: (page) => page.length === 0 ? 'No SLOs are defined: add slos: to the config file (see config/slo-example.yaml) or call manage_slo.' : page.map((r) => sloLine(r.status)).join('\n'),
        hints: first ? [`slo_status(slo="${first.name}")`, ...hintsFor(first).slice(1)] : ['manage_slo(action="upsert", definition={...})'],
      });
    },
  );
}

function evaluate(deps: McpDeps, stored: StoredSlo, now: number): Promise<SloStatus> {
  return evaluateSlo(stored.definition, deps.slos.events, now);
}

function minBudget(s: SloStatus): number {
  return Math.min(1, ...s.objectives.map((o) => o.budgetRemaining));
}

function hintsFor(s: SloStatus): string[] {
  const scope = `service="${s.service}"${s.operation ? `, operation="${s.operation}"` : ''}`;
  const burning = s.objectives.filter((o) => o.state !== 'ok');
  const hints: string[] = [];
  if (burning.some((o) => o.kind !== 'latency')) hints.push(`find_errors(service="${s.service}", window="1h")`);
  if (burning.some((o) => o.kind === 'latency')) hints.push(`latency_stats(${scope}, window="1h", compare_to="-1d")`, `find_bottlenecks(${scope}, window="1h")`);
  if (hints.length === 0) hints.push(`latency_stats(${scope}, window="1d")`);
  return hints;
}

function unknownSlo(name: string, all: StoredSlo[]): ToolError {
  const names = all.map((s) => s.definition.name);
  if (names.length === 0) return new ToolError(`no SLO "${name}": none are defined; add slos: to the config or call manage_slo`);
  return new ToolError(`no SLO "${name}". Nearest: ${nearestNames(name, names).join(', ')}. Call slo_status without slo for all.`);
}
