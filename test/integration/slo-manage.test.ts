import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir, startTestDaemon } from '../helpers/daemon.js';
import { callOk, callTool, connectHttp, connectStdio } from '../helpers/mcp-client.js';

/**
 * manage_slo: refused over HTTP unless mcp.allowWrites, allowed over stdio and with allowWrites; config
 * SLOs are read-only over MCP; MCP-managed SLOs are in SQLite and survive a daemon restart.
 */

const CONFIG_SLO = { name: 'from-config', service: 'apes-ml-pipeline', objectives: { availability: 0.999 } };
const DEFINITION = { service: 'ingest-api', operation: 'POST /v1/ingest', period: { calendar: 'month' }, objectives: { availability: '99.5%', latency: [{ thresholdMs: 300, target: 0.9 }] } };

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const tempDir = (): string => {
  const dir = makeTempDir('spanlens-slo-manage-');
  dirs.push(dir);
  return dir;
};

const text = (r: { content: unknown }): string => JSON.stringify(r.content);

describe('manage_slo', () => {
  it('over HTTP without mcp.allowWrites: refused with how to enable it; reads still work', async () => {
    const daemon = await startTestDaemon({ config: { slos: [CONFIG_SLO] } });
    const mcp = await connectHttp(daemon.apiUrl);
    try {
      const refused = await callTool(mcp.client, 'manage_slo', { action: 'upsert', name: 'ingest', definition: DEFINITION });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/read-only unless mcp\.allowWrites is true/);
      const { tools } = await mcp.client.listTools();
      expect(tools.find((t) => t.name === 'manage_slo')?.annotations?.readOnlyHint).toBe(false);
      const all = await callOk<{ slos: { name: string }[] }>(mcp.client, 'slo_status');
      expect(all.slos.map((s) => s.name)).toEqual(['from-config']);
    } finally {
      await mcp.close();
      await daemon.stop();
    }
  });

  it('with allowWrites: create, replace, refuse bad definitions and config SLOs, delete; kept across a restart', async () => {
    const dataDir = tempDir();
    const config = { slos: [CONFIG_SLO], mcp: { allowWrites: true } };
    let daemon = await startTestDaemon({ dataDir, config });
    let mcp = await connectHttp(daemon.apiUrl);
    try {
      const created = await callOk<{ result: string; definition: Record<string, unknown> }>(mcp.client, 'manage_slo', { action: 'upsert', name: 'ingest', definition: DEFINITION });
      expect(created.result).toBe('created');
      // Stored canonical: percentages as fractions, the default indicator spelled out.
      expect(created.definition).toEqual({ name: 'ingest', ...DEFINITION, indicator: { spans: { kinds: ['server', 'consumer'] } }, objectives: { availability: 0.995, latency: [{ thresholdMs: 300, target: 0.9 }] } });
      const replaced = await callOk<{ result: string }>(mcp.client, 'manage_slo', { action: 'upsert', name: 'ingest', definition: { ...DEFINITION, period: '7d' } });
      expect(replaced.result).toBe('replaced');
      await callOk(mcp.client, 'manage_slo', { action: 'upsert', name: 'scratch', definition: { service: 'x', objectives: { errorRate: 0.01 } } });

      const bad = await callTool(mcp.client, 'manage_slo', { action: 'upsert', name: 'bad', definition: { service: 'x', period: '90d', objectives: { latency: [{ thresholdMs: 0, target: 2 }] } } });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toMatch(/period: a rolling period must be between 1h and 35d/);
      expect(text(bad)).toMatch(/objectives\.latency\.0\.thresholdMs/);
      const overConfig = await callTool(mcp.client, 'manage_slo', { action: 'upsert', name: 'from-config', definition: DEFINITION });
      expect(overConfig.isError).toBe(true);
      expect(text(overConfig)).toMatch(/defined in the config file/);
      const deleteConfig = await callTool(mcp.client, 'manage_slo', { action: 'delete', name: 'from-config' });
      expect(deleteConfig.isError).toBe(true);
      expect(text(deleteConfig)).toMatch(/defined in the config file and cannot be deleted over MCP/);
      expect((await callOk<{ result: string }>(mcp.client, 'manage_slo', { action: 'delete', name: 'scratch' })).result).toBe('deleted');
      expect((await callTool(mcp.client, 'manage_slo', { action: 'delete', name: 'scratch' })).isError).toBe(true);
    } finally {
      await mcp.close();
      await daemon.stop();
    }

    daemon = await startTestDaemon({ dataDir, config });
    mcp = await connectHttp(daemon.apiUrl);
    try {
      const resource = (await readJson(mcp.client, 'spanlens://slos')) as { slos: { name: string; source: string; definition: { period: unknown } }[] };
      expect(resource.slos.map((s) => [s.name, s.source, s.definition.period])).toEqual([['from-config', 'config', '30d'], ['ingest', 'mcp', '7d']]);
      const detail = await callOk<{ slos: { name: string; source: string; period: string; requests: number }[] }>(mcp.client, 'slo_status', { slo: 'ingest' });
      expect(detail.slos[0]).toMatchObject({ name: 'ingest', source: 'mcp', period: '7d', requests: 0 });
    } finally {
      await mcp.close();
      await daemon.stop();
    }
  }, 60_000);

  it('over stdio (spanlens mcp) writes are allowed; the SLO is there after the daemon restarts', async () => {
    const dataDir = tempDir();
    const stdio = await connectStdio(dataDir);
    try {
      const created = await callOk<{ result: string }>(stdio.client, 'manage_slo', { action: 'upsert', name: 'local', definition: DEFINITION });
      expect(created.result).toBe('created');
    } finally {
      await stdio.close();
    }
    // A restart on the same data directory (in-process this time) finds the SLO written over stdio.
    const daemon = await startTestDaemon({ dataDir });
    try {
      const stored = await daemon.service.slos.catalog.list();
      expect(stored.map((s) => [s.definition.name, s.source])).toEqual([['local', 'mcp']]);
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});

async function readJson(client: Client, uri: string): Promise<unknown> {
  const { contents } = await client.readResource({ uri });
  return JSON.parse((contents[0] as { text: string }).text) as unknown;
}
