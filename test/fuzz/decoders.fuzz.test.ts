/**
 * CI-sized run of bench/fuzz.ts (2k seeded mutants per decoder), the regression corpus of inputs that
 * once misbehaved, and a sample of mutants through the real receivers: bad input may only ever be
 * answered with 200 (possibly partial success) or 400 / INVALID_ARGUMENT, never a 5xx or a retryable
 * code (a client would retry a request that can never succeed) and never a crash.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { Rng } from '../../bench/lib/fuzz-mutate.js';
import { buildSeeds, type Seeds } from '../../bench/lib/fuzz-seeds.js';
import { fuzzTargets, runTarget, type Finding, type FuzzTarget } from '../../bench/lib/fuzz-targets.js';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { grpcCall, METRICS_EXPORT_PATH, rawGrpcClient, rawRequest, TRACE_EXPORT_PATH } from '../helpers/otlp-raw.js';

const INPUTS = 2000;
const SEED = 20_261_125;
const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));

let seeds: Seeds;
let targets: FuzzTarget[];

beforeAll(async () => {
  seeds = await buildSeeds();
  targets = fuzzTargets(seeds);
});

describe('decoder fuzz (seeded, CI size)', () => {
  for (const name of ['traces-protobuf', 'traces-json', 'metrics-protobuf', 'metrics-json', 'prometheus-text']) {
    it(`${name}: ${INPUTS} mutants decode or are refused as malformed`, () => {
      const target = targets.find((t) => t.name === name) as FuzzTarget;
      const findings: Finding[] = [];
      const stats = runTarget(target, new Rng(SEED + name.length), INPUTS, SEED, findings);
      const bad = findings.filter((f) => f.verdict !== 'slow');
      expect(bad.map((f) => `${f.verdict}: ${f.detail}`)).toEqual([]);
      expect(stats.crashes + stats.unexpectedErrors).toBe(0);
      // Both paths exercised: the mutants are neither all rejected nor all harmless.
      expect(stats.ok).toBeGreaterThan(INPUTS / 20);
      expect(stats.refused).toBeGreaterThan(INPUTS / 20);
    });
  }

  it('replays the regression corpus', () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const target = targets.find((t) => file.startsWith(`${t.name}-`));
      expect(target, `${file}: no decoder by that prefix`).toBeDefined();
      const { verdict, detail } = (target as FuzzTarget).run(readFileSync(CORPUS + file));
      expect(['ok', 'refused'], `${file}: ${detail ?? ''}`).toContain(verdict);
    }
  });
});

describe('mutants through the real receivers', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startTestDaemon();
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  const SAMPLE = 60;

  it('OTLP/HTTP answers 200 or 400 to every mutant, protobuf and JSON, traces and metrics', async () => {
    const rng = new Rng(SEED);
    const byName = (n: string): FuzzTarget => targets.find((t) => t.name === n) as FuzzTarget;
    const corpus = readdirSync(CORPUS).filter((f) => f.endsWith('.bin'));
    const cases: { path: string; type: string; body: Uint8Array; label: string }[] = [];
    for (const [name, path, type] of [
      ['traces-protobuf', '/v1/traces', 'application/x-protobuf'],
      ['traces-json', '/v1/traces', 'application/json'],
      ['metrics-protobuf', '/v1/metrics', 'application/x-protobuf'],
      ['metrics-json', '/v1/metrics', 'application/json'],
    ] as const) {
      for (let i = 0; i < SAMPLE; i++) cases.push({ path, type, body: byName(name).mutate(rng), label: `${name} #${i}` });
      for (const f of corpus.filter((c) => c.startsWith(`${name}-`))) cases.push({ path, type, body: readFileSync(CORPUS + f), label: f });
    }
    const seen: Record<number, number> = {};
    for (const c of cases) {
      const reply = await rawRequest(`${daemon.httpUrl}${c.path}`, { headers: { 'Content-Type': c.type }, body: c.body });
      seen[reply.status] = (seen[reply.status] ?? 0) + 1;
      expect([200, 400], `${c.label}: HTTP ${reply.status} ${Buffer.from(reply.body).toString('utf8').slice(0, 200)}`).toContain(reply.status);
    }
    expect(seen[200]).toBeGreaterThan(0);
    expect(seen[400]).toBeGreaterThan(0);
    expect((await getJson(`${daemon.apiUrl}/readyz`)).status).toBe(200);
  }, 60_000);

  it('OTLP/gRPC answers OK or INVALID_ARGUMENT to every protobuf mutant', async () => {
    const rng = new Rng(SEED + 1);
    const client = rawGrpcClient(daemon.grpcTarget);
    const seen: Record<string, number> = {};
    try {
      for (const [name, path] of [['traces-protobuf', TRACE_EXPORT_PATH], ['metrics-protobuf', METRICS_EXPORT_PATH]] as const) {
        const target = targets.find((t) => t.name === name) as FuzzTarget;
        for (let i = 0; i < SAMPLE; i++) {
          const reply = await grpcCall(client, target.mutate(rng), path);
          const code = reply.error ? reply.error.code : status.OK;
          seen[status[code]] = (seen[status[code]] ?? 0) + 1;
          expect([status.OK, status.INVALID_ARGUMENT], `${name} #${i}: ${reply.error?.details ?? ''}`).toContain(code);
        }
      }
    } finally {
      client.close();
    }
    expect(seen['OK']).toBeGreaterThan(0);
    expect(seen['INVALID_ARGUMENT']).toBeGreaterThan(0);
  }, 60_000);
});
