import type { AuditReader } from '../store/ports.js';
import { BadQueryError } from './read-routes.js';
import { parseInstant, parseWindow } from './time-range.js';

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

/**
 * GET /api/audit (admin): the audit log as JSON lines, oldest first, so that `?since=` with the last
 * line's time continues a previous read. since: a duration back from now (1h, 7d) or an instant
 * (RFC3339, epoch ms, now-2h); default 1h. until, identity, tool, limit (default 1000, at most 10000), offset.
 */
export class AuditRoutes {
  constructor(
    private readonly audit: AuditReader,
    private readonly now: () => number,
  ) {}

  async jsonLines(params: URLSearchParams): Promise<string> {
    const nowMs = this.now();
    const since = params.get('since') ?? '1h';
    const back = parseWindow(since);
    const sinceMs = back !== null ? nowMs - back : parseInstant(since, nowMs);
    const until = params.get('until');
    const limitText = params.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new BadQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    const offset = Number(params.get('offset') ?? 0);
    if (!Number.isInteger(offset) || offset < 0) throw new BadQueryError('offset must be an integer ≥ 0');
    const identity = params.get('identity');
    const tool = params.get('tool');
    const { entries } = await this.audit.auditEntries({
      sinceMs,
      ...(until !== null ? { untilMs: parseInstant(until, nowMs) } : {}),
      ...(identity !== null ? { identity } : {}),
      ...(tool !== null ? { tool } : {}),
      limit,
      offset,
      order: 'asc',
    });
    return entries.map((e) => `${JSON.stringify({ time: new Date(e.timeMs).toISOString(), ...e })}\n`).join('');
  }
}
