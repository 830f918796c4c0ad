/**
 * The per-rule alert state machine, as one pure function (Prometheus semantics): a rule whose condition
 * turns true goes pending, fires once the condition has held for `for`, and resolves when it turns false.
 * A pending alert whose condition clears goes back to inactive without notifying. A condition that could
 * not be computed (no data) counts as false, like an empty PromQL result.
 */

export type AlertStateName = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertState {
  state: AlertStateName;
  /** When the condition turned true (pending and firing); null otherwise. */
  activeSinceMs: number | null;
  /** When the alert fired; kept after it resolves, for the resolved notification's startsAt. */
  firedAtMs: number | null;
  /** When the alert last resolved. */
  resolvedAtMs: number | null;
  /** The value of the last evaluation (null: no data). */
  value: number | null;
  lastEvalMs: number | null;
}

export const INITIAL_ALERT_STATE: AlertState = { state: 'inactive', activeSinceMs: null, firedAtMs: null, resolvedAtMs: null, value: null, lastEvalMs: null };

/** One evaluation of a rule's condition. */
export interface ConditionResult {
  active: boolean;
  value: number | null;
}

/** A state change; `firing` and `resolved` are the ones that notify. */
export interface AlertEvent {
  from: AlertStateName;
  to: AlertStateName;
  atMs: number;
  value: number | null;
  notify: boolean;
}

export interface AlertTransition {
  state: AlertState;
  events: AlertEvent[];
}

export function nextAlertState(prev: AlertState, condition: ConditionResult, forMs: number, nowMs: number): AlertTransition {
  const base = { ...prev, value: condition.value, lastEvalMs: nowMs };
  const event = (to: AlertStateName, notify: boolean): AlertEvent => ({ from: prev.state, to, atMs: nowMs, value: condition.value, notify });
  if (condition.active) {
    switch (prev.state) {
      case 'inactive':
      case 'resolved':
        if (forMs <= 0) return { state: { ...base, state: 'firing', activeSinceMs: nowMs, firedAtMs: nowMs }, events: [event('firing', true)] };
        return { state: { ...base, state: 'pending', activeSinceMs: nowMs }, events: [event('pending', false)] };
      case 'pending': {
        const since = prev.activeSinceMs ?? nowMs;
        if (nowMs - since >= forMs) return { state: { ...base, state: 'firing', firedAtMs: nowMs }, events: [event('firing', true)] };
        return { state: base, events: [] };
      }
      case 'firing':
        return { state: base, events: [] };
    }
  }
  switch (prev.state) {
    case 'pending':
      return { state: { ...base, state: 'inactive', activeSinceMs: null }, events: [event('inactive', false)] };
    case 'firing':
      return { state: { ...base, state: 'resolved', activeSinceMs: null, resolvedAtMs: nowMs }, events: [event('resolved', true)] };
    case 'inactive':
    case 'resolved':
      return { state: base, events: [] };
  }
}

export type AlertOp = '>' | '>=' | '<' | '<=';

/** The comparison of a threshold rule; no data never satisfies it. */
export function compareThreshold(value: number | null, op: AlertOp, threshold: number): boolean {
  if (value === null || Number.isNaN(value)) return false;
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/** Order in which alerts are listed: what needs attention first. */
export const ALERT_STATE_RANK: Readonly<Record<AlertStateName, number>> = { firing: 0, pending: 1, resolved: 2, inactive: 3 };
