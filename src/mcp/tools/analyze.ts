import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { cacheAnswer } from '../domain-cache.js';
import { databaseAnswer } from '../domain-database.js';
import { inferenceAnswer } from '../domain-inference.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';

const TOPICS = { cache: cacheAnswer, inference: inferenceAnswer, database: databaseAnswer } as const;

/**
 * One tool for the domain analyses (one schema is far cheaper in tools/list than three): rows per
 * cache level / model version / statement, findings (weakest level, cold starts, N+1, pools), context.
 */
export function registerAnalyze(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'analyze',
    {
      description: 'cache hit ratio per level+trend; inference p50-p99 per model/version, cold starts; DB queries, N+1, pools.',
      inputSchema: z.object({
        topic: z.enum(['cache', 'inference', 'database']),
        service: z.string().optional(),
        ...timeInput, ...budgetInput,
      }),
      outputSchema: z.looseObject({ rows: z.array(z.looseObject({})), findings: z.array(z.looseObject({})), meta: metaSchema, hints: z.array(z.string()) }),
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const answer = await TOPICS[args.topic](deps, args, range);
      const budget = budgetOf(args.max_bytes, deps.limits);
      // Findings come first in importance but must leave room for rows: at most half the budget.
      let findings = answer.findings;
      while (findings.length > 1 && Buffer.byteLength(JSON.stringify(findings)) > budget / 2) findings = findings.slice(0, -1);
      const context = findings.length < answer.findings.length ? { ...answer.context, findings_total: answer.findings.length } : answer.context;
      return boundedResult({
        rows: answer.rows, offset: 0, limit: 200, budget,
        meta: { window: range.window, precision: answer.precision },
        build: (page) => ({ source: answer.source, rows: page, findings, context }),
        summary: () => answer.summary,
        hints: answer.hints,
      });
    },
  );
}
