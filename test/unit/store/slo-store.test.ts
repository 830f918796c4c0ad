import { afterEach, describe, expect, it } from 'vitest';
import { openWriterDb } from '../../../src/store/sqlite/open.js';
import { SqliteSloCatalog, type SloValidator } from '../../../src/store/sqlite/slo-store.js';
import { parseSloDefinition, sloToConfigShape } from '../../../src/config/slo-schema.js';
import { SloDefinitionError } from '../../../src/store/ports.js';
import { makeTempDir, removeDir } from '../../helpers/daemon.js';

const validate: SloValidator = (raw) => {
  const parsed = parseSloDefinition(raw);
  return parsed.ok ? { ok: true, value: parsed.value, canonical: sloToConfigShape(parsed.value) } : parsed;
};
const slo = (name: string, availability = 0.999): Record<string, unknown> => ({ name, service: 'svc', objectives: { availability } });

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function open(): { catalog: SqliteSloCatalog; dir: string } {
  const dir = makeTempDir('spanlens-slo-store-');
  dirs.push(dir);
  openWriterDb(dir).close(); // the writer thread migrates at start; here we do it directly
  return { catalog: new SqliteSloCatalog(dir, validate), dir };
}

describe('SLO catalog in SQLite', () => {
  it('mirrors the config: unchanged keep their times, changed are updated, removed disappear, the file wins a name clash', async () => {
    const { catalog, dir } = open();
    catalog.syncConfig([slo('a'), slo('b')], 1000);
    await catalog.upsert(slo('c', 0.99), 2000);
    catalog.syncConfig([slo('a'), slo('b', 0.95), slo('c')], 3000);
    const rows = Object.fromEntries((await catalog.list()).map((s) => [s.definition.name, [s.source, s.createdAtMs, s.updatedAtMs, s.definition.objectives.availability]]));
    expect(rows).toEqual({ a: ['config', 1000, 1000, 0.999], b: ['config', 1000, 3000, 0.95], c: ['config', 2000, 3000, 0.999] });
    catalog.syncConfig([slo('a')], 4000);
    expect((await catalog.list()).map((s) => s.definition.name)).toEqual(['a']);
    catalog.close();
    // A new connection (a restart) sees the same.
    const again = new SqliteSloCatalog(dir, validate);
    expect((await again.get('a'))?.source).toBe('config');
    again.close();
  });

  it('MCP writes: config SLOs are read-only, bad definitions list their problems, deletes report absence', async () => {
    const { catalog } = open();
    catalog.syncConfig([slo('cfg')], 1);
    await expect(catalog.upsert(slo('cfg'), 2)).rejects.toThrow(/defined in the config file/);
    await expect(catalog.remove('cfg')).rejects.toBeInstanceOf(SloDefinitionError);
    await expect(catalog.upsert({ name: 'x', service: 's', objectives: { availability: 2 } }, 2)).rejects.toThrow(/objectives\.availability/);
    expect((await catalog.upsert(slo('m'), 5)).created).toBe(true);
    const replaced = await catalog.upsert(slo('m', 0.9), 6);
    expect([replaced.created, replaced.slo.createdAtMs, replaced.slo.updatedAtMs]).toEqual([false, 5, 6]);
    expect(await catalog.remove('m')).toBe(true);
    expect(await catalog.remove('m')).toBe(false);
    catalog.close();
  });
});
