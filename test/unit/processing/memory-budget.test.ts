/**
 * The static part of the memory budget. The writer's page cache fills completely under ingest alone, and
 * at an eighth of the budget (64 MiB at the 512 MiB default) RSS under 32 concurrent exporters crossed
 * the soft limit, so the daemon refused exports it could have stored (bench/ingest.ts --concurrency 32:
 * 52k spans/s with refusals, 96k without).
 */
import { describe, expect, it } from 'vitest';
import { memoryBudget } from '../../../src/processing/memory-guard.js';

const MIB = 1024 * 1024;
const configured = { maxInflightBytes: 1024 * MIB, maxRequestBytes: 64 * MIB };

describe('memoryBudget', () => {
  it('gives the writer a thirty-second of the budget: 16 MiB at the 512 MiB default', () => {
    const budget = memoryBudget(512 * MIB, configured);
    expect(budget.writerCacheKiB).toBe(16 * 1024);
    expect(budget.softLimitBytes).toBe(Math.floor(512 * MIB * 0.8));
  });

  it('keeps the writer cache within a thirty-second of any budget, between 4 and 64 MiB', () => {
    for (const mib of [32, 64, 128, 256, 320, 512, 1024, 2048, 4096, 16384]) {
      const { writerCacheKiB } = memoryBudget(mib * MIB, configured);
      expect(writerCacheKiB).toBeGreaterThanOrEqual(4096);
      expect(writerCacheKiB).toBeLessThanOrEqual(65_536);
      if (mib >= 128) expect(writerCacheKiB * 1024).toBeLessThanOrEqual((mib * MIB) / 32);
    }
  });

  it('bounds in-flight bytes and the largest request by an eighth of the budget', () => {
    const budget = memoryBudget(512 * MIB, configured);
    expect(budget.maxInflightBytes).toBe(64 * MIB);
    expect(budget.maxRequestBytes).toBe(64 * MIB);
    expect(memoryBudget(512 * MIB, { maxInflightBytes: 8 * MIB, maxRequestBytes: 4 * MIB })).toMatchObject({
      maxInflightBytes: 8 * MIB,
      maxRequestBytes: 4 * MIB,
    });
  });
});
