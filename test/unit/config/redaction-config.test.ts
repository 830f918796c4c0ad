import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { DEFAULT_REDACTION_SETTINGS } from '../../../src/codec/redact-values.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-redact-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const yamlFile = (text: string): string => {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
};

describe('redaction config', () => {
  it('defaults to the redactor defaults (on, every built-in pattern, db and URL handling)', () => {
    expect(loadConfig(undefined).redaction).toEqual(DEFAULT_REDACTION_SETTINGS);
  });

  it('lists every bad redaction setting by its path', () => {
    const file = yamlFile(`
redaction:
  enabled: maybe
  customPatterns: ['(unclosed', '/ok-[0-9]+/i']
  patterns:
    ssn: true
`);
    let problems: string[] = [];
    try {
      loadConfig(file);
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems.some((p) => p.startsWith('redaction.enabled'))).toBe(true);
    expect(problems.some((p) => p.startsWith('redaction.customPatterns.0') && p.includes('regular expression'))).toBe(true);
    expect(problems.some((p) => p.startsWith('redaction.patterns'))).toBe(true);
    expect(problems.some((p) => p.includes('customPatterns.1'))).toBe(false);
  });
});
