/**
 * The inverse of flattenDecoded, for tests and bench/writer-stages.ts: the writer reads the flat form
 * directly (store/sqlite/span-batch.ts) and never rebuilds these objects.
 */
import type { DecodedTraces } from '../../src/model/decoded.js';
import { BLOB_DIGEST_BYTES } from '../../src/store/sqlite/dictionaries.js';
import { expandTraces } from '../../src/codec/trace-layout.js';
import type { TransferredTraces } from '../../src/store/sqlite/decoded-transfer.js';

/** Rebuilds the DecodedTraces that flattenDecoded flattened, as views into `t.bytes`. */
export function unflattenDecoded(t: TransferredTraces): DecodedTraces {
  const flat = { ...t, layout: new Uint32Array(t.layout), times: new Uint32Array(t.times), extra: [], extraBytes: 0 };
  return expandTraces(flat, new Uint8Array(t.bytes), BLOB_DIGEST_BYTES);
}
