/**
 * Seeded mutation fuzzer for every decoder that reads client input: OTLP protobuf traces and metrics,
 * the OTLP/JSON traces transcoder and metrics decoder, the Prometheus/OpenMetrics text parser. Seeds are
 * real SDK requests (bench/lib/fuzz-seeds.ts); mutations are protobuf-aware byte edits and structural
 * JSON edits (bench/lib/fuzz-mutate.ts). Not coverage-guided: breadth comes from volume and seeds.
 *
 *   npx tsx bench/fuzz.ts [--inputs 100000] [--seed 1] [--only traces-protobuf] [--save-corpus]
 *
 * stdout: one JSON line per decoder (inputs, ok, refused, crashes, unexpectedErrors, slow, time).
 * --save-corpus writes each crashing, unexpected or slow input to test/fuzz/corpus/, which the CI test
 * (test/fuzz/decoders.fuzz.test.ts) replays. Exit code 1 when anything crashed or misbehaved.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Rng } from './lib/fuzz-mutate.js';
import { buildSeeds } from './lib/fuzz-seeds.js';
import { fuzzTargets, runTarget, type Finding } from './lib/fuzz-targets.js';

const { values: opts } = parseArgs({
  options: {
    inputs: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
    'save-corpus': { type: 'boolean', default: false },
  },
});

const CORPUS = fileURLToPath(new URL('../test/fuzz/corpus/', import.meta.url));

async function main(): Promise<number> {
  const seeds = await buildSeeds();
  const inputs = Number(opts.inputs);
  const seed = Number(opts.seed);
  let bad = 0;
  const findings: Finding[] = [];
  for (const [k, target] of fuzzTargets(seeds).entries()) {
    if (opts.only !== undefined && opts.only !== target.name) continue;
    const stats = runTarget(target, new Rng(seed * 7919 + k), inputs, seed, findings);
    bad += stats.crashes + stats.unexpectedErrors;
    process.stdout.write(JSON.stringify(stats) + '\n');
  }
  for (const f of findings) {
    process.stderr.write(`${f.decoder} ${f.verdict}: ${f.detail}\n`);
    if (opts['save-corpus']) {
      mkdirSync(CORPUS, { recursive: true });
      const hash = createHash('sha256').update(f.input).digest('hex').slice(0, 12);
      writeFileSync(`${CORPUS}${f.decoder}-${f.verdict}-${hash}.bin`, f.input);
    }
  }
  return bad === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
