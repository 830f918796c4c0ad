import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { McpLimits } from './deps.js';
import { ToolError } from './errors.js';

/** The metadata every tool answer carries (MCP-TOOLS.md §2 rule 1). */
// Deliberately shapeless in the listed schema: its fields are described once, in the server instructions,
// instead of in every tool's output schema (tools/list must stay under 20 KB).
export const metaSchema = z.looseObject({});
export interface Meta {
  total: number;
  truncated: boolean;
  returned: number;
  bytes: number;
  window?: string;
  precision?: string;
  /** Bulk analyses: traces analysed of traces matched. */
  sample?: { analysed: number; matched: number; matched_exact: boolean };
  next_cursor?: string;
  more?: string;
}
export type WindowMeta = { start: string; end: string };

/** Input fields every list tool shares. */
export const budgetInput = {
  max_bytes: z.number().min(1024).optional(),
};
export const pageInput = {
  limit: z.number().int().min(1).max(500).optional().describe('default 20'),
  cursor: z.string().optional().describe('meta.next_cursor'),
};

export function budgetOf(maxBytes: number | undefined, limits: McpLimits): number {
  return Math.min(maxBytes ?? limits.defaultBytes, limits.hardCapBytes);
}

export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new ToolError('cursor is not one this server issued: repeat the call without cursor');
  return Number(match[1]);
}

export interface BoundedOptions<T> {
  /** Every matching row, most informative first (the order a truncation keeps). */
  rows: readonly T[];
  /**
   * How many rows there are in all when `rows` holds only the first ones (a caller that ranks 10k rows
   * builds objects only for the page it can show); default rows.length.
   */
  total?: number;
  offset: number;
  /** The tool takes `cursor`: truncated answers carry next_cursor. */
  paged?: boolean;
  /** The argument that bounds the rows, for the `more` hint (default "limit"). */
  limitArg?: string;
  limit: number;
  budget: number;
  meta?: { window?: WindowMeta; precision?: string; sample?: Meta['sample'] };
  /** structuredContent for a page of rows; `meta` and `hints` are added here. */
  build: (rows: T[]) => Record<string, unknown>;
  summary: (rows: T[], meta: Meta) => string;
  hints?: string[];
}

/**
 * A page of rows that fits the byte budget: at most `limit` rows from `offset`, fewer if their JSON
 * would exceed the budget (binary search on the row count). The rows dropped are always the least
 * informative ones because callers order rows by importance. When anything is left out, `truncated`,
 * `total`, `next_cursor` and `more` say so and how to get the rest.
 */
export function boundedResult<T>(o: BoundedOptions<T>): CallToolResult {
  const page = o.rows.slice(o.offset, o.offset + o.limit);
  const total = o.total ?? o.rows.length;
  const render = (n: number): { structured: Record<string, unknown>; text: string; bytes: number } => {
    const rows = page.slice(0, n);
    const returned = rows.length;
    const truncated = o.offset + returned < total;
    const meta: Meta = {
      ...(o.meta?.window ? { window: `${o.meta.window.start}/${o.meta.window.end}` } : {}),
      ...(o.meta?.precision ? { precision: o.meta.precision } : {}),
      ...(o.meta?.sample ? { sample: o.meta.sample } : {}),
      total,
      returned,
      truncated,
      ...(truncated && o.paged
        ? {
            next_cursor: encodeCursor(o.offset + returned),
            more: n < page.length
              ? `byte budget reached: pass cursor=next_cursor for the next rows, or a larger max_bytes, or narrow the query`
              : `pass cursor=next_cursor for the next ${Math.min(o.limit, total - o.offset - returned)} rows`,
          }
        : {}),
      ...(truncated && !o.paged
        ? { more: n < page.length ? 'byte budget reached: pass a larger max_bytes or narrow the query' : `raise ${o.limitArg ?? 'limit'} (${total} rows in all) or narrow the query` }
        : {}),
      bytes: 0,
    };
    const structured = { ...o.build(rows), meta, hints: o.hints ?? [] };
    const text = o.summary(rows, meta);
    meta.bytes = resultBytes(structured, text);
    return { structured, text, bytes: meta.bytes };
  };
  let best = render(page.length);
  if (best.bytes > o.budget) {
    let lo = 0;
    let hi = page.length - 1;
    best = render(0);
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const candidate = render(mid);
      if (candidate.bytes <= o.budget) {
        best = candidate;
        lo = mid + 1;
      } else hi = mid - 1;
    }
  }
  return { content: [{ type: 'text', text: best.text }], structuredContent: best.structured };
}

/** An answer without rows (status, one trace summary): still carries meta and must fit the budget. */
export function singleResult(structured: Record<string, unknown>, text: string, hints: string[] = []): CallToolResult {
  const full: Record<string, unknown> = { ...structured, meta: { total: 1, returned: 1, truncated: false, bytes: 0 }, hints };
  (full['meta'] as Meta).bytes = resultBytes(full, text);
  return { content: [{ type: 'text', text }], structuredContent: full };
}

/** Milliseconds with at most 3 decimals, from nanoseconds or microseconds. */
export const msFromNs = (ns: bigint | number): number => Math.round(Number(ns) / 1e3) / 1e3;
export const msFromUs = (us: number): number => Math.round(us) / 1e3;
export const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Bytes of the whole tool result as it goes on the wire (the `bytes` field itself counted at 6 digits). */
function resultBytes(structured: Record<string, unknown>, text: string): number {
  return Buffer.byteLength(JSON.stringify({ content: [{ type: 'text', text }], structuredContent: structured })) + 6;
}

/** Long free text (messages, attribute values) cut to `max` characters. */
export const clipText = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max)}…` : text);
