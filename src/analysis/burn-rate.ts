/**
 * Multi-window, multi-burn-rate alerting on an SLO's error budget (SRE Workbook ch. 5, alert 6; SLO-v1 in
 * ANALYSIS.md §5.5). A burn rate of 1 spends exactly the budget over the compliance period; each row
 * pages or tickets only when both its long window (enough budget spent to matter) and its short window
 * (still burning now, so the alert resets soon after recovery) exceed the factor.
 */

export type BurnWindow = '5m' | '30m' | '1h' | '6h' | '3d';

export const BURN_WINDOW_MS: Readonly<Record<BurnWindow, number>> = {
  '5m': 5 * 60_000,
  '30m': 30 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '3d': 3 * 86_400_000,
};

export interface BurnRule {
  severity: 'page' | 'ticket';
  long: BurnWindow;
  short: BurnWindow;
  /** 14.4 over 1 h spends 2 % of a 30-day budget; 6 over 6 h, 5 %; 1 over 3 d, 10 %. */
  factor: number;
}

export const SRE_WORKBOOK_RULES: readonly BurnRule[] = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
];

/** Events of one window: `total` requests of which `bad` failed the objective. */
export interface WindowEvents {
  total: number;
  bad: number;
}

/** Fewer events than this in the short window: the alert is reported but flagged, not paged on. */
export const LOW_TRAFFIC_EVENTS = 10;

export interface BurnRateAlert extends BurnRule {
  longBurnRate: number;
  shortBurnRate: number;
  longEvents: number;
  shortEvents: number;
  lowTraffic: boolean;
  firing: boolean;
}

/** bad fraction over the allowed bad fraction; 0 without events (no traffic burns no budget). */
export function burnRate(events: WindowEvents, target: number): number {
  if (events.total === 0) return 0;
  const allowed = 1 - target;
  if (allowed <= 0) return events.bad > 0 ? Number.POSITIVE_INFINITY : 0;
  return events.bad / events.total / allowed;
}

/** Every rule evaluated; `firing` never set on low traffic. */
export function evaluateBurnRules(
  eventsByWindow: Readonly<Record<BurnWindow, WindowEvents>>,
  target: number,
  rules: readonly BurnRule[] = SRE_WORKBOOK_RULES,
): BurnRateAlert[] {
  return rules.map((rule) => {
    const long = eventsByWindow[rule.long];
    const short = eventsByWindow[rule.short];
    const longBurnRate = burnRate(long, target);
    const shortBurnRate = burnRate(short, target);
    const lowTraffic = short.total < LOW_TRAFFIC_EVENTS;
    return {
      ...rule,
      longBurnRate,
      shortBurnRate,
      longEvents: long.total,
      shortEvents: short.total,
      lowTraffic,
      firing: !lowTraffic && longBurnRate > rule.factor && shortBurnRate > rule.factor,
    };
  });
}

/** Windows the workbook rules of `severity` need ('any': every row). */
export function burnWindowsFor(severity: BurnRule['severity'] | 'any', rules: readonly BurnRule[] = SRE_WORKBOOK_RULES): BurnWindow[] {
  const windows = new Set<BurnWindow>();
  for (const r of rules) if (severity === 'any' || r.severity === severity) windows.add(r.long).add(r.short);
  return [...windows];
}

/**
 * A burn-rate alert rule's condition: active when any workbook row of `severity` fires. Its value is the
 * highest burn rate that both windows of a row sustain (min of long and short) over that row's factor,
 * so 1 is the firing edge whatever the row.
 */
export function burnCondition(
  eventsByWindow: Readonly<Partial<Record<BurnWindow, WindowEvents>>>,
  target: number,
  severity: BurnRule['severity'] | 'any',
  rules: readonly BurnRule[] = SRE_WORKBOOK_RULES,
): { active: boolean; value: number | null; rows: BurnRateAlert[] } {
  const selected = rules.filter((r) => severity === 'any' || r.severity === severity);
  const none: WindowEvents = { total: 0, bad: 0 };
  const full = Object.fromEntries(Object.keys(BURN_WINDOW_MS).map((w) => [w, eventsByWindow[w as BurnWindow] ?? none])) as Record<BurnWindow, WindowEvents>;
  const rows = evaluateBurnRules(full, target, selected);
  let value: number | null = null;
  for (const r of rows) {
    const v = Math.min(r.longBurnRate, r.shortBurnRate) / r.factor;
    if (value === null || v > value) value = v;
  }
  return { active: rows.some((r) => r.firing), value, rows };
}
