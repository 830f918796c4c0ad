import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, clipText, metaSchema } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';
import {
  alertsSection, bottleneckSection, busiestServices, domainSection, errorSection, regressionSection, sloSection,
  reportScope, type Finding, type Section,
} from '../report-sections.js';

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;
const output = z.object({
  services: z.array(z.string()),
  findings: z.array(z.looseObject({}).describe('severity, area, text, next (the call that shows the evidence)')),
  sections: z.record(z.string(), z.string()).describe('one line per area'),
  meta: metaSchema, hints: z.array(z.string()),
});

/**
 * One call that answers "how are we doing?": SLOs, alerts, regressions against the previous window,
 * the bottleneck, errors, cache and inference, as ranked findings that each name the next call. A
 * section that fails says why in its line instead of failing the report.
 */
export function registerPerformanceReport(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'performance_report',
    {
      description: 'One-call report: SLOs, alerts, regressions, bottleneck, errors, cache, inference; ranked findings with next calls.',
      inputSchema: z.object({ service: z.string().optional(), ...timeInput, ...budgetInput }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const services = args.service !== undefined ? [args.service] : await busiestServices(deps, range, 3);
      const scope = reportScope(deps, range, services, args.service);
      const parts: [string, () => Promise<Section>][] = [
        ['slo', () => sloSection(scope)],
        ['alerts', () => alertsSection(scope)],
        ['regressions', () => regressionSection(scope)],
        ['bottleneck', () => bottleneckSection(scope)],
        ['errors', () => errorSection(scope)],
        ['cache', () => domainSection(scope, 'cache')],
        ['inference', () => domainSection(scope, 'inference')],
      ];
      const sections: Record<string, string> = {};
      const findings: Finding[] = [];
      // One after another: each section is a bulk read, and running them together would only contend.
      for (const [name, run] of parts) {
        try {
          const section = await run();
          sections[name] = clipText(section.summary, 300);
          findings.push(...section.findings);
        } catch (err) {
          sections[name] = `not available: ${clipText((err as Error).message, 200)}`;
        }
      }
      findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
      return boundedResult({
        rows: findings, offset: 0, limit: 20, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window },
        build: (page) => ({ services, findings: page, sections }),
        summary: (page) => page.length === 0
          ? `Nothing stands out for ${services.join(', ') || 'any service'} in the window: ${Object.entries(sections).map(([k, v]) => `${k}: ${v}`).join('; ')}.`
          : `${page.filter((f) => f.severity === 'critical').length} critical, ${page.filter((f) => f.severity === 'warning').length} warnings. ${page.slice(0, 3).map((f) => f.text).join(' | ')}`,
        hints: findings.slice(0, 3).map((f) => f.next),
      });
    },
  );
}
