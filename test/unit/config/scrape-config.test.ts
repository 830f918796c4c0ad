import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, overridesFromEnv } from '../../../src/config/load.js';

const TMP = mkdtempSync(path.join(os.tmpdir(), 'spanlens-scrape-config-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function yamlFile(text: string): string {
  const file = path.join(TMP, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('scrape config', () => {
  it('has no targets by default and a 16MiB body limit', () => {
    expect(loadConfig(undefined).scrape).toEqual({ targets: [], maxBodySize: 16 * 1024 * 1024 });
  });

  it('reads targets from the file with interval/timeout/job defaults', () => {
    const file = yamlFile('scrape:\n  targets:\n    - url: http://app:8000/metrics\n    - url: https://db:9187/metrics\n      interval: 30s\n      timeout: 5s\n      job: postgres\n');
    expect(loadConfig(file).scrape.targets).toEqual([
      { url: 'http://app:8000/metrics', interval: 15_000, timeout: 10_000, job: 'scrape' },
      { url: 'https://db:9187/metrics', interval: 30_000, timeout: 5_000, job: 'postgres' },
    ]);
  });

  it('METRICS_ENDPOINT adds a target, once', () => {
    const env = overridesFromEnv({ METRICS_ENDPOINT: 'http://localhost:8000/metrics' });
    expect(env.metricsEndpoint).toBe('http://localhost:8000/metrics');
    expect(loadConfig(undefined, env).scrape.targets).toEqual([
      { url: 'http://localhost:8000/metrics', interval: 15_000, timeout: 10_000, job: 'scrape' },
    ]);
    const file = yamlFile('scrape:\n  targets:\n    - url: http://localhost:8000/metrics\n      interval: 5s\n      timeout: 1s\n      job: seed\n    - url: http://other:1/metrics\n');
    const targets = loadConfig(file, env).scrape.targets;
    expect(targets.map((t) => [t.url, t.job, t.interval])).toEqual([
      ['http://localhost:8000/metrics', 'seed', 5_000],
      ['http://other:1/metrics', 'scrape', 15_000],
    ]);
    expect(overridesFromEnv({ METRICS_ENDPOINT: '' }).metricsEndpoint).toBeUndefined();
  });

  it('rejects bad targets with their path', () => {
    expect(problemsOf(() => loadConfig(undefined, { metricsEndpoint: 'localhost:8000/metrics' }))[0]).toMatch(/^scrape\.targets\.0\.url: /);
    const file = yamlFile('scrape:\n  targets:\n    - url: ftp://x/metrics\n    - url: http://x/metrics\n      interval: 1s\n      timeout: 2s\n    - url: http://y/metrics\n      tls: true\n');
    const problems = problemsOf(() => loadConfig(file));
    expect(problems).toEqual([
      expect.stringMatching(/^scrape\.targets\.0\.url: /),
      'scrape.targets.1: timeout must not exceed a non-zero interval',
      expect.stringMatching(/^scrape\.targets\.2: .*tls/),
    ]);
  });
});
