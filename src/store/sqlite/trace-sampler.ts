import type Database from 'better-sqlite3';
import { SearchEntries, searchOf } from './search-blocks.js';
import { TRACE_SAMPLE_SQL } from './sql.js';
import type { TraceIdSample, TraceSearchQuery } from '../ports.js';

const HASH_SPACE = 2 ** 32;
/** Read this much more than needed per band, so that one band usually suffices. */
const OVERSAMPLE = 1.25;
const MAX_BANDS = 8;

/**
 * The trace's sampling hash: bytes 9-12, inside the 7 rightmost bytes that W3C Trace Context level 2
 * requires to be random (the leading bytes may hold a timestamp, as X-Ray ids do).
 */
export const traceHash = (traceId: Buffer): number => traceId.readUInt32BE(9);

/**
 * A uniform sample of the traces matching `query` in its window: the `limit` matching traces with the
 * smallest hash (bottom-k sampling). Trace ids are random, so that is a uniform sample over time, unlike
 * the newest N, which a long window would bias to its last minutes; and it is deterministic, so repeated
 * calls analyse the same traces.
 *
 * Cost: one native sum over the window's search blocks, then the blocks are read and entries kept only
 * in the hash band [0, hi) that should hold ~limit matches; if filters the count cannot see (operation,
 * duration ceiling, several entries per trace) leave too few, the next band is read, sized from the
 * density seen.
 */
export class TraceSampler {
  private readonly count: Database.Statement;
  private readonly blocks: Database.Statement;

  constructor(db: Database.Database) {
    this.count = db.prepare(TRACE_SAMPLE_SQL.countByService).safeIntegers(true);
    this.blocks = db.prepare(TRACE_SAMPLE_SQL.blocksByService).safeIntegers(true);
  }

  sample(serviceIds: readonly bigint[], nameId: bigint | null, query: TraceSearchQuery): TraceIdSample {
    const { filter, blocks: params } = searchOf(query, nameId);
    let rows = 0;
    for (const service of serviceIds) rows += Number((this.count.get({ ...params, service }) as { n: bigint }).n);
    if (rows === 0 || query.limit <= 0) return { traceIds: [], matched: 0, matchedExact: true };
    const matches = new Map<string, number>(); // trace id (latin1) -> hash
    let lo = 0;
    let hi = Math.min(HASH_SPACE, Math.ceil((OVERSAMPLE * query.limit * HASH_SPACE) / rows));
    for (let bands = 1; ; bands++) {
      for (const service of serviceIds) {
        for (const row of this.blocks.iterate({ ...params, service }) as IterableIterator<{ entries: Buffer }>) {
          for (const entry = new SearchEntries(row.entries); entry.advance(); ) {
            const hash = entry.traceHash;
            if (hash < lo || hash >= hi || !entry.matches(filter)) continue;
            matches.set(entry.traceId.toString('latin1'), hash);
          }
        }
      }
      if (matches.size >= query.limit || hi >= HASH_SPACE) break;
      lo = hi;
      // Matches per hash unit so far, to size the band that completes the sample.
      const wanted = OVERSAMPLE * query.limit;
      hi = bands >= MAX_BANDS || matches.size === 0 ? Math.min(HASH_SPACE, hi * 16) : Math.min(HASH_SPACE, Math.ceil((wanted * hi) / matches.size));
      if (hi <= lo) hi = Math.min(HASH_SPACE, lo * 2);
    }
    const exact = hi >= HASH_SPACE;
    const chosen = [...matches].sort((a, b) => a[1] - b[1]).slice(0, query.limit);
    return {
      traceIds: chosen.map(([key]) => Buffer.from(key, 'latin1').toString('hex')),
      matched: exact ? matches.size : Math.round((matches.size * HASH_SPACE) / hi),
      matchedExact: exact,
    };
  }
}
