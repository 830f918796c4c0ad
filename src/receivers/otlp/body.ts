import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { PermanentError } from '../../pipeline/errors.js';

/**
 * Reads a request body, decompressing it as it streams and enforcing the size limit on the
 * decompressed bytes, so a small gzip bomb is refused (413) as soon as it passes the limit instead of
 * being inflated in full (OTLP spec v1.11 "OTLP/HTTP Request": limit after decompression).
 */
export async function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let inflater: Gunzip | Inflate | null;
  if (encoding === 'identity' || encoding === '') inflater = null;
  else if (encoding === 'gzip' || encoding === 'x-gzip') inflater = createGunzip();
  else if (encoding === 'deflate') inflater = createInflate();
  else throw new PermanentError(`unsupported Content-Encoding: ${encoding} (supported: gzip, deflate, identity)`);

  const declared = Number(req.headers['content-length']);
  if (inflater === null && Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

  const source: NodeJS.ReadableStream = inflater ? req.pipe(inflater) : req;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    if (inflater) {
      req.unpipe(inflater);
      inflater.destroy();
    }
    if (err instanceof PermanentError) throw err;
    if (inflater) throw new PermanentError(`${encoding}: ${(err as Error).message}`);
    throw err;
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number): PermanentError {
  return new PermanentError(`request body exceeds ${maxBytes} bytes after decompression`, 'payload_too_large');
}
