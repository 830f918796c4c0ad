/**
 * What redaction costs on the writer thread, per span, measured on one thread with the same realistic
 * pre-encoded requests as bench/ingest.ts (500 spans, ~12 attributes each, db.statement and url.full
 * present but with nothing to redact):
 *   clean     the ingest decode (decodeTracesFlat) with vs without the redactor (the price every span pays)
 *   secrets   the same requests with four secrets added to every span (email, Authorization header,
 *             URL query, SQL literal): decode + rewrite of every span
 *   rewriter  Redactor.span alone over every span of the clean / secret requests (what a separate pass,
 *             e.g. on the receiving thread, would cost before rebuilding the request envelope)
 * Time is process CPU time (the bench itself is single-threaded; GC threads count, as they should),
 * rounds interleaved across variants; each round runs every request once.
 *
 *   npx tsx bench/redaction.ts [--quick] [--rounds 15] [--requests 20]
 *
 * stdout: one JSON line.
 */
import { parseArgs } from 'node:util';
import { decodeTracesFlat, decodeTracesRequest } from '../src/codec/traces-decode.js';
import { Redactor } from '../src/codec/redact.js';
import { DEFAULT_REDACTION_SETTINGS } from '../src/codec/redact-values.js';
import { otlpType, TypeNames } from '../src/codec/protos.js';
import { DEFAULT_SHAPE, encodeRequest } from './lib/otlp-payload.js';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    requests: { type: 'string' },
  },
});
const rounds = Number(opts.rounds ?? (opts.quick ? 5 : 15));
const requestCount = Number(opts.requests ?? (opts.quick ? 6 : 20));

const RequestType = otlpType(TypeNames.exportTracesRequest);
type Loose = Record<string, unknown>;

const baseNs = BigInt(Date.now()) * 1_000_000n;
const clean = Array.from({ length: requestCount }, (_, i) => encodeRequest(DEFAULT_SHAPE, 1000 + i, i % 8, Buffer.alloc(8, i + 1), baseNs));

/** The same request with four secrets added to every span. */
function withSecrets(body: Uint8Array, n: number): Uint8Array {
  const req = RequestType.toObject(RequestType.decode(body), { longs: String, bytes: Buffer }) as Loose;
  let k = 0;
  for (const rs of req['resourceSpans'] as Loose[]) {
    for (const ss of rs['scopeSpans'] as Loose[]) {
      for (const span of ss['spans'] as Loose[]) {
        k++;
        (span['attributes'] as Loose[]).push(
          { key: 'enduser.email', value: { stringValue: `user${n}.${k}@example.com` } },
          { key: 'http.request.header.authorization', value: { stringValue: `Bearer tok${k}` } },
          { key: 'url.full', value: { stringValue: `https://shop.example.com/api/cart?session=${k}&page=2` } },
          { key: 'db.query.text', value: { stringValue: `SELECT * FROM orders WHERE id = ${k}` } },
        );
      }
    }
  }
  return RequestType.encode(RequestType.fromObject(req)).finish();
}
const secret = clean.map((b, i) => withSecrets(b, i));
const spansPer = decodeTracesRequest(clean[0] as Uint8Array).spanCount;
const totalSpans = spansPer * requestCount;

function cpuNs(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

type Stat = { median: number; min: number; max: number };
const stat = (xs: number[]): Stat => ({ median: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) });

/**
 * ns/span of each variant, rounds interleaved (variant A, B, C… then again) so that load from other
 * processes drifting over time hits every variant alike; min is the least disturbed round.
 */
function measureAll(variants: Record<string, [Uint8Array[], (body: Uint8Array) => void]>): Record<string, Stat> {
  const samples: Record<string, number[]> = {};
  for (const [name, [bodies, fn]] of Object.entries(variants)) {
    for (let w = 0; w < 3; w++) for (const b of bodies) fn(b); // warm-up (JIT tiers)
    samples[name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, [bodies, fn]] of Object.entries(variants)) (samples[name] as number[]).push(cpuNs(() => bodies.forEach(fn)) / totalSpans);
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stat(v)]));
}

const redactor = new Redactor(DEFAULT_REDACTION_SETTINGS);
let sink = 0;
const decodePlain = (b: Uint8Array): void => {
  sink += decodeTracesFlat(b).spanCount;
};
const decodeRedact = (b: Uint8Array): void => {
  sink += decodeTracesFlat(b, redactor).spanCount;
};
/** The rewriter alone, over span ranges found by a plain decode done beforehand. */
const spanRanges = (bodies: Uint8Array[]): [Uint8Array, number, number][][] =>
  bodies.map((b) =>
    decodeTracesRequest(b).resources.flatMap((r) => r.scopes.flatMap((s) => s.spans.map((sp): [Uint8Array, number, number] => [b, sp.raw.byteOffset - b.byteOffset, sp.raw.byteOffset - b.byteOffset + sp.raw.length]))),
  );
const rewriteOnly = (ranges: [Uint8Array, number, number][][]) => {
  let i = 0;
  return (): void => {
    for (const [b, s, e] of ranges[i++ % ranges.length] as [Uint8Array, number, number][]) if (redactor.span(b, s, e) !== null) sink++;
  };
};

const cleanRanges = spanRanges(clean);
const secretRanges = spanRanges(secret);
const m = measureAll({
  cleanPlain: [clean, decodePlain],
  cleanRedact: [clean, decodeRedact],
  rewriteClean: [clean, rewriteOnly(cleanRanges)],
  secretPlain: [secret, decodePlain],
  secretRedact: [secret, decodeRedact],
  rewriteSecret: [secret, rewriteOnly(secretRanges)],
});
const { cleanPlain, cleanRedact, rewriteClean, secretPlain, secretRedact, rewriteSecret } = m as Record<'cleanPlain' | 'cleanRedact' | 'rewriteClean' | 'secretPlain' | 'secretRedact' | 'rewriteSecret', Stat>;
const secretBytes = secret.reduce((n, b) => n + b.length, 0) / totalSpans;
const countsPerSpan = Object.fromEntries(Object.entries(redactor.counts).map(([k, v]) => [k, Math.round((v / totalSpans) * 100) / 100]));

console.log(
  JSON.stringify({
    bench: 'redaction',
    spans: totalSpans,
    rounds,
    cpu_ns_per_span: {
      clean: { decode: cleanPlain, decode_redact: cleanRedact, added_median: cleanRedact.median - cleanPlain.median, added_min: cleanRedact.min - cleanPlain.min, rewriter_alone: rewriteClean },
      secrets: { decode: secretPlain, decode_redact: secretRedact, added_median: secretRedact.median - secretPlain.median, added_min: secretRedact.min - secretPlain.min, rewriter_alone: rewriteSecret },
    },
    bytes_per_span: { clean: Math.round(clean.reduce((n, b) => n + b.length, 0) / totalSpans), secrets: Math.round(secretBytes) },
    redactions_per_span_seen: countsPerSpan,
    sink: sink > 0,
  }),
);
