import { describe, expect, it } from 'vitest';
import { burnRate, evaluateBurnRules, type BurnWindow, type WindowEvents } from '../../../src/analysis/burn-rate.js';

const TARGET = 0.999;
const windows = (bad: Partial<Record<BurnWindow, number>>, total = 10_000): Record<BurnWindow, WindowEvents> => ({
  '5m': { total, bad: bad['5m'] ?? 0 },
  '30m': { total, bad: bad['30m'] ?? 0 },
  '1h': { total, bad: bad['1h'] ?? 0 },
  '6h': { total, bad: bad['6h'] ?? 0 },
  '3d': { total, bad: bad['3d'] ?? 0 },
});
const firing = (w: Record<BurnWindow, WindowEvents>): string[] =>
  evaluateBurnRules(w, TARGET).filter((a) => a.firing).map((a) => `${a.severity}:${a.long}+${a.short}`);

describe('SRE-workbook multi-window burn-rate rules', () => {
  it('burn rate is the bad fraction over the allowed bad fraction, 0 without traffic', () => {
    expect(burnRate({ total: 1000, bad: 1 }, TARGET)).toBeCloseTo(1, 9);
    expect(burnRate({ total: 0, bad: 0 }, TARGET)).toBe(0);
  });

  it('pages when 1 h and 5 m both burn faster than 14.4', () => {
    // 1.5 % errors = burn 15 in both windows.
    expect(firing(windows({ '1h': 150, '5m': 150 }))).toEqual(['page:1h+5m']);
  });

  it('does not page on a short spike: the long window has not spent 2 % of the budget', () => {
    expect(firing(windows({ '5m': 5000, '1h': 100 }))).toEqual([]);
  });

  it('resets once the short window recovers, even if the long window still burned (the AND)', () => {
    expect(firing(windows({ '1h': 1000, '5m': 0 }))).toEqual([]);
  });

  it('the 6 h + 30 m page at factor 6 and the 3 d + 6 h ticket at factor 1', () => {
    expect(firing(windows({ '6h': 70, '30m': 70 }))).toEqual(['page:6h+30m']);
    expect(firing(windows({ '3d': 20, '6h': 20 }))).toEqual(['ticket:3d+6h']);
  });

  it('flags low traffic and never fires on it', () => {
    const w = windows({ '1h': 9, '5m': 9 }, 9);
    const alerts = evaluateBurnRules(w, TARGET);
    expect(alerts.every((a) => a.lowTraffic && !a.firing)).toBe(true);
  });
});
