import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { parseSloDefinition, sloToConfigShape } from '../../../src/config/slo-schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TMP = mkdtempSync(path.join(os.tmpdir(), 'spanlens-slo-config-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function problems(yaml: string): string[] {
  const file = path.join(TMP, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  try {
    loadConfig(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('SLO definitions in the config file', () => {
  it('config/slo-example.yaml validates: the seed four targets for apes-ml-pipeline', () => {
    const config = loadConfig(path.join(ROOT, 'config/slo-example.yaml'));
    const [rolling, month] = config.slos;
    expect(rolling).toEqual({
      name: 'apes-ml-pipeline',
      description: 'Seed targets for the ML pipeline\'s entry points over a rolling 30 days.',
      service: 'apes-ml-pipeline',
      period: { rollingMs: 30 * 86_400_000 },
      indicator: { type: 'spans', kinds: [2, 5] },
      objectives: { availability: 0.999, latency: [{ thresholdMs: 2000, target: 0.95 }, { thresholdMs: 5000, target: 0.99 }], errorRate: 0.001 },
    });
    // Percent strings parse to the same fractions.
    expect(month?.period).toEqual({ calendar: 'month' });
    expect(month?.objectives).toEqual({ ...rolling!.objectives });
  });

  it('no slos: key means none', () => {
    expect(loadConfig(undefined).slos).toEqual([]);
  });

  it('every problem is listed by path', () => {
    const found = problems(`
slos:
  - name: a
    service: s
    period: 90d
    objectives: { availability: 1.5, latency: [{ thresholdMs: -1, target: 0.95 }] }
  - name: a
    service: s
    objectives: {}
  - name: m
    service: s
    indicator: { metrics: { latency: 'h_ms' } }
    objectives: { availability: 0.99 }
`);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^slos\.0\.period: a rolling period must be between 1h and 35d/),
      expect.stringMatching(/^slos\.0\.objectives\.availability: /),
      expect.stringMatching(/^slos\.0\.objectives\.latency\.0\.thresholdMs: /),
      expect.stringMatching(/^slos\.1\.objectives: give at least one objective/),
      expect.stringMatching(/^slos\.2\.indicator\.metrics: availability\/errorRate from metrics need total/),
    ]));
  });

  it('duplicate names are refused', () => {
    expect(problems('slos:\n  - { name: a, service: s, objectives: { availability: 0.9 } }\n  - { name: a, service: t, objectives: { availability: 0.9 } }\n')).toEqual([
      'slos: SLO names must be unique',
    ]);
  });

  it('the canonical config shape (what is stored and shown) parses back to the same definition', () => {
    for (const raw of [
      { name: 'x', service: 's', operation: 'GET /a', period: '12h', indicator: { spans: { kinds: ['server'] } }, objectives: { latency: [{ thresholdMs: 250, target: '99%' }] } },
      { name: 'y', service: 's', period: { calendar: 'month' }, indicator: { metrics: { good: 'req_total{ok="1"}', total: 'req_total', latency: 'dur_ms' } }, objectives: { errorRate: 0.01, latency: [{ thresholdMs: 100, target: 0.9 }] } },
    ]) {
      const first = parseSloDefinition(raw);
      expect(first.ok).toBe(true);
      if (!first.ok) continue;
      const canonical = sloToConfigShape(first.value);
      const again = parseSloDefinition(JSON.parse(JSON.stringify(canonical)));
      expect(again).toEqual(first);
    }
  });
});
