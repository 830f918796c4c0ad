import { describe, expect, it } from 'vitest';
import { compareThreshold, INITIAL_ALERT_STATE, nextAlertState, type AlertEvent, type AlertState } from '../../../src/analysis/alert-state.js';
import { BURN_WINDOW_MS, burnCondition, burnWindowsFor, type BurnWindow, type WindowEvents } from '../../../src/analysis/burn-rate.js';

const MIN = 60_000;

/** Runs the state machine over conditions[i] evaluated at times[i]; returns every event. */
function run(conditions: { active: boolean; value: number | null }[], forMs: number, stepMs = MIN): { events: AlertEvent[]; state: AlertState } {
  let state = INITIAL_ALERT_STATE;
  const events: AlertEvent[] = [];
  conditions.forEach((c, i) => {
    const next = nextAlertState(state, c, forMs, i * stepMs);
    state = next.state;
    events.push(...next.events);
  });
  return { events, state };
}

describe('alert state machine', () => {
  it('inactive → pending → firing after `for`, resolved when the condition clears; only firing and resolved notify', () => {
    const on = { active: true, value: 3 };
    const off = { active: false, value: 1 };
    const { events, state } = run([off, on, on, on, on, off, off], 2 * MIN);
    expect(events.map((e) => [e.to, e.atMs / MIN, e.notify])).toEqual([
      ['pending', 1, false],
      ['firing', 3, true],
      ['resolved', 5, true],
    ]);
    expect(state.state).toBe('resolved');
    expect(state.firedAtMs).toBe(3 * MIN);
    expect(state.resolvedAtMs).toBe(5 * MIN);
  });

  it('a condition shorter than `for` goes pending and back to inactive without notifying', () => {
    const { events } = run([{ active: true, value: 1 }, { active: true, value: 1 }, { active: false, value: 0 }], 5 * MIN);
    expect(events.map((e) => [e.to, e.notify])).toEqual([['pending', false], ['inactive', false]]);
  });

  it('for = 0 fires at the first true evaluation; a resolved alert can fire again', () => {
    const { events } = run([{ active: true, value: 1 }, { active: false, value: 0 }, { active: true, value: 1 }], 0);
    expect(events.map((e) => e.to)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('no data never satisfies a threshold', () => {
    expect(compareThreshold(null, '<', 1)).toBe(false);
    expect(compareThreshold(Number.NaN, '>', 0)).toBe(false);
    expect(compareThreshold(0.79, '<', 0.8)).toBe(true);
    expect(compareThreshold(2000, '>', 2000)).toBe(false);
    expect(compareThreshold(2000, '>=', 2000)).toBe(true);
  });
});

/**
 * The SRE-workbook multiwindow rule as an alert rule, on a synthetic series of per-minute request counts
 * (1000 requests a minute, SLO 99.9 %). Window sums are computed here from the series, independently of
 * the code under test; windows are half-open (t − w, t] like SLO-v1.
 */
describe('burn-rate alert rule on synthetic traffic (SRE workbook table)', () => {
  const TARGET = 0.999;
  const PER_MIN = 1000;

  function simulate(badFractionAt: (minute: number) => number, minutes: number, forMs: number): AlertEvent[] {
    const series: WindowEvents[] = [];
    let state = INITIAL_ALERT_STATE;
    const events: AlertEvent[] = [];
    const windows = burnWindowsFor('page');
    for (let m = 0; m < minutes; m++) {
      series.push({ total: PER_MIN, bad: Math.round(PER_MIN * badFractionAt(m)) });
      const nowMs = m * MIN;
      const eventsByWindow: Partial<Record<BurnWindow, WindowEvents>> = {};
      for (const w of windows) {
        const span = BURN_WINDOW_MS[w] / MIN;
        const inWindow = series.slice(Math.max(0, m + 1 - span), m + 1);
        eventsByWindow[w] = { total: inWindow.reduce((a, e) => a + e.total, 0), bad: inWindow.reduce((a, e) => a + e.bad, 0) };
      }
      const c = burnCondition(eventsByWindow, TARGET, 'page');
      const next = nextAlertState(state, c, forMs, nowMs);
      state = next.state;
      events.push(...next.events);
    }
    return events;
  }

  const START = 8 * 60; // 8 h of clean traffic first, so the 6 h window is full
  const at = (events: AlertEvent[]): [string, number][] => events.map((e) => [e.to, e.atMs / MIN - START]);

  it('fires on a sustained 15× burn once the 1 h window exceeds 14.4 and `for` has passed, then resolves after recovery', () => {
    // 15× burn = 1.5 % errors for 90 minutes, then clean again.
    const events = simulate((m) => (m >= START && m < START + 90 ? 0.015 : 0), START + 120, 2 * MIN);
    // 1 h burn after k bad minutes = 15·k/60 > 14.4 ⇔ k ≥ 58 (minute 57 counted from 0); 5 m burn is 15 from k = 5.
    // `for` 2m: fires two evaluations later. Recovery: the 5 m window drops to 12× one minute after the burn stops.
    expect(at(events)).toEqual([
      ['pending', 57],
      ['firing', 59],
      ['resolved', 90],
    ]);
    expect(events.filter((e) => e.notify).map((e) => e.to)).toEqual(['firing', 'resolved']);
  });

  it('does not fire on a short spike: 100× for 5 minutes spends 1.2 % of the budget, under both page rows', () => {
    const events = simulate((m) => (m >= START && m < START + 5 ? 0.1 : 0), START + 120, 2 * MIN);
    expect(events).toEqual([]);
  });

  it('a full outage shorter than `for` goes pending but never notifies', () => {
    // 100 % errors for 2 minutes: the 1 h and 5 m windows both exceed 14.4 while the outage is in the 5 m window.
    const events = simulate((m) => (m >= START && m < START + 2 ? 1 : 0), START + 60, 10 * MIN);
    expect(events.map((e) => e.to)).toEqual(['pending', 'inactive']);
    expect(events.some((e) => e.notify)).toBe(false);
  });

  it('the AND of both windows: a 100× burn over the last hour that stopped 5 minutes ago does not fire', () => {
    const long: WindowEvents = { total: 60_000, bad: 6_000 };
    const c = burnCondition({ '1h': long, '5m': { total: 5_000, bad: 0 }, '6h': { total: 360_000, bad: 6_000 }, '30m': { total: 30_000, bad: 0 } }, TARGET, 'page');
    expect(c.active).toBe(false);
    expect(c.rows[0]!.longBurnRate).toBeCloseTo(100, 6);
  });
});
