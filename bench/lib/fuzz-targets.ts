/**
 * The decoders under fuzz, each with its oracle: an input either decodes (and the result is sane) or
 * is refused with the decoder's own "malformed request" error, which the receivers answer with 400 /
 * INVALID_ARGUMENT. Anything else thrown (TypeError, RangeError, a stack overflow) is a crash, an
 * unexpected error class or a broken invariant is an unexpected error.
 */
import { decodeTracesRequest } from '../../src/codec/traces-decode.js';
import { decodeMetricsJson, decodeMetricsProtobuf } from '../../src/codec/metrics-decode.js';
import { MalformedJsonError, transcodeTracesJson } from '../../src/codec/otlp-json-in.js';
import { MalformedProtobufError } from '../../src/codec/wire-reader.js';
import { parseExposition } from '../../src/receivers/prometheus/parse.js';
import { ExpositionParseError } from '../../src/receivers/prometheus/exposition.js';
import type { ExpositionFormat } from '../../src/receivers/prometheus/exposition.js';
import { mutateBytes, mutateJson, mutateText, type Rng } from './fuzz-mutate.js';
import type { Seeds } from './fuzz-seeds.js';

export type Verdict = 'ok' | 'refused' | 'crash' | 'unexpected';

export interface FuzzTarget {
  name: string;
  /** A fresh mutant as bytes (text formats are UTF-8), derived from the seeds. */
  mutate(rng: Rng): Uint8Array;
  /** Runs the decoder on one input; a returned string explains a crash or unexpected error. */
  run(input: Uint8Array): { verdict: Verdict; detail?: string };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function classify(err: unknown, allowed: (err: unknown) => boolean): { verdict: Verdict; detail: string } | { verdict: 'refused' } {
  if (allowed(err)) return { verdict: 'refused' };
  const detail = err instanceof Error ? `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 4).join('\n')}` : `non-Error thrown: ${String(err)}`;
  const crash = !(err instanceof Error) || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
  return { verdict: crash ? 'crash' : 'unexpected', detail };
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new InvariantError(what);
}
class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

const isProtoError = (e: unknown): boolean => e instanceof MalformedProtobufError;
const isJsonError = (e: unknown): boolean => e instanceof MalformedJsonError;

function guarded(fn: () => void, allowed: (e: unknown) => boolean): { verdict: Verdict; detail?: string } {
  try {
    fn();
    return { verdict: 'ok' };
  } catch (err) {
    return classify(err, allowed);
  }
}

function tracesSane(d: ReturnType<typeof decodeTracesRequest>): void {
  check(Number.isInteger(d.spanCount) && d.spanCount >= 0, `spanCount ${d.spanCount}`);
  check(Number.isInteger(d.rejected) && d.rejected >= 0, `rejected ${d.rejected}`);
}

export function fuzzTargets(seeds: Seeds): FuzzTarget[] {
  const pickMutant = (rng: Rng, pool: readonly Uint8Array[]): Uint8Array => {
    let input = rng.pick(pool);
    for (let k = 1 + rng.int(3); k > 0; k--) input = mutateBytes(rng, input, pool);
    return input;
  };
  const jsonMutant = (rng: Rng, pool: readonly Uint8Array[]): Uint8Array => {
    const seed = decoder.decode(rng.pick(pool));
    return encoder.encode(rng.chance(0.85) ? mutateJson(rng, seed) : mutateText(rng, seed));
  };
  const promTexts = seeds.prometheus;
  return [
    {
      name: 'traces-protobuf',
      mutate: (rng) => pickMutant(rng, seeds.tracesProto),
      run: (input) => guarded(() => tracesSane(decodeTracesRequest(input)), isProtoError),
    },
    {
      name: 'traces-json',
      mutate: (rng) => jsonMutant(rng, seeds.tracesJson),
      // The transcoder's output goes through the binary decoder in the writer: it must always decode.
      run: (input) =>
        guarded(() => {
          const { proto, rejected } = transcodeTracesJson(input);
          check(rejected >= 0, `rejected ${rejected}`);
          let decoded;
          try {
            decoded = decodeTracesRequest(proto);
          } catch (err) {
            throw new InvariantError(`transcoded JSON does not decode: ${(err as Error).message}`);
          }
          tracesSane(decoded);
        }, isJsonError),
    },
    {
      name: 'metrics-protobuf',
      mutate: (rng) => pickMutant(rng, seeds.metricsProto),
      run: (input) =>
        guarded(() => {
          const d = decodeMetricsProtobuf(input);
          check(d.pointCount === d.series.reduce((a, s) => a + s.points.length, 0), 'pointCount != points');
        }, isProtoError),
    },
    {
      name: 'metrics-json',
      mutate: (rng) => jsonMutant(rng, seeds.metricsJson),
      run: (input) =>
        guarded(() => {
          const d = decodeMetricsJson(input);
          check(d.pointCount === d.series.reduce((a, s) => a + s.points.length, 0), 'pointCount != points');
        }, isJsonError),
    },
    {
      name: 'prometheus-text',
      mutate: (rng) => {
        const seed = rng.pick(promTexts);
        let text = seed.text;
        for (let k = 1 + rng.int(4); k > 0; k--) text = mutateText(rng, text);
        // The format travels in the first byte so that a saved corpus input replays as it ran.
        return encoder.encode((seed.format === 'openmetrics' ? 'o' : 'p') + text);
      },
      run: (input) => {
        const text = decoder.decode(input);
        const format: ExpositionFormat = text.startsWith('o') ? 'openmetrics' : 'prometheus-text';
        return guarded(() => void parseExposition(text.slice(1), format), (e) => e instanceof ExpositionParseError);
      },
    },
  ];
}

export interface FuzzStats {
  decoder: string;
  inputs: number;
  ok: number;
  refused: number;
  crashes: number;
  unexpectedErrors: number;
  /** Inputs that took longer than SLOW_MS to decode. */
  slow: number;
  maxInputMs: number;
  timeMs: number;
  seed: number;
}

export const SLOW_MS = 250;

export interface Finding {
  decoder: string;
  verdict: Verdict | 'slow';
  detail: string;
  input: Uint8Array;
}

/** Runs `inputs` mutants through one target; findings are collected (first few per kind), not thrown. */
export function runTarget(target: FuzzTarget, rng: Rng, inputs: number, seed: number, findings: Finding[]): FuzzStats {
  const stats: FuzzStats = { decoder: target.name, inputs, ok: 0, refused: 0, crashes: 0, unexpectedErrors: 0, slow: 0, maxInputMs: 0, timeMs: 0, seed };
  const started = performance.now();
  for (let i = 0; i < inputs; i++) {
    const input = target.mutate(rng);
    const t0 = performance.now();
    const { verdict, detail } = target.run(input);
    const took = performance.now() - t0;
    if (took > stats.maxInputMs) stats.maxInputMs = took;
    if (verdict === 'ok') stats.ok++;
    else if (verdict === 'refused') stats.refused++;
    else if (verdict === 'crash') stats.crashes++;
    else stats.unexpectedErrors++;
    if ((verdict === 'crash' || verdict === 'unexpected') && findings.length < 50) findings.push({ decoder: target.name, verdict, detail: detail ?? '', input });
    if (took > SLOW_MS) {
      stats.slow++;
      if (findings.length < 50) findings.push({ decoder: target.name, verdict: 'slow', detail: `${Math.round(took)} ms`, input });
    }
  }
  stats.timeMs = Math.round(performance.now() - started);
  stats.maxInputMs = Math.round(stats.maxInputMs * 10) / 10;
  return stats;
}
