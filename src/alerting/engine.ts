import type { Logger } from 'pino';
import { ALERT_STATE_RANK, INITIAL_ALERT_STATE, nextAlertState, type AlertState } from '../analysis/alert-state.js';
import type { AlertReceiverConfig, AlertRuleConfig } from '../config/alert-schema.js';
import type { AlertHistoryEntry, AlertOverviewRow, AlertsPort, AlertWriteResult } from '../store/ports.js';
import { evaluateRule, type AlertSources } from './conditions.js';
import { WebhookNotifier } from './notifier.js';
import type { AlertNotice } from './payloads.js';
import { describeRule, parseRule, ruleSpec, type AlertRule } from './rules.js';

/** What the engine persists (store/sqlite/alert-store.ts implements it). */
export interface AlertPersistence {
  rules(): { name: string; source: 'config' | 'mcp'; spec: Record<string, unknown> }[];
  replaceConfigRules(rules: readonly { name: string; spec: Record<string, unknown> }[], nowMs: number): void;
  upsertRule(name: string, source: 'config' | 'mcp', spec: Record<string, unknown>, nowMs: number): boolean;
  deleteRule(name: string): boolean;
  states(): Map<string, AlertState>;
  record(states: readonly { rule: string; state: AlertState }[], history: readonly AlertHistoryEntry[]): void;
  recentHistory(limit: number, rule?: string): AlertHistoryEntry[];
  pruneHistory(beforeMs: number): number;
}

export interface AlertEngineOptions {
  intervalMs: number;
  historyRetentionMs: number;
  /** Base of generatorURL in notifications (a function: the API port is known only once it listens). */
  externalUrl: () => string;
  receivers: readonly AlertReceiverConfig[];
  rules: readonly AlertRuleConfig[];
}

const PRUNE_EVERY_MS = 10 * 60_000;
const YIELD_EVERY_RULES = 10;

/**
 * Evaluates every rule each interval, moves its state with the pure nextAlertState, persists state changes
 * and history, and hands firing/resolved notices to the webhook notifier. Implements the AlertsPort that
 * MCP reads and writes rules through. One evaluation at a time: a slow one delays the next tick.
 */
export class AlertEngine implements AlertsPort {
  private readonly rules = new Map<string, AlertRule>();
  private readonly states = new Map<string, AlertState>();
  private readonly notes = new Map<string, string>();
  private readonly notifier: WebhookNotifier;
  private readonly receiverNames: Set<string>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastPruneMs = 0;

  constructor(
    private readonly options: AlertEngineOptions,
    private readonly store: AlertPersistence,
    private readonly sources: AlertSources,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.receiverNames = new Set(options.receivers.map((r) => r.name));
    this.notifier = new WebhookNotifier(
      new Map(options.receivers.map((r) => [r.name, r])),
      (entry) => this.recordSafely([], [entry]),
      logger,
      now,
    );
  }

  /** Config rules replace the stored config rules; MCP rules and every state come back from the store. */
  load(): void {
    const configured = this.options.rules.map((r) => ({ ...r, source: 'config' as const }));
    const clash = this.store.rules().filter((r) => r.source === 'mcp' && configured.some((c) => c.name === r.name));
    for (const r of clash) this.logger.warn({ rule: r.name }, 'a config alert rule replaces the MCP rule of the same name');
    this.store.replaceConfigRules(configured.map((r) => ({ name: r.name, spec: ruleSpec(r) })), this.now());
    for (const stored of this.store.rules()) {
      const parsed = parseRule(stored.spec, stored.source);
      if (parsed.ok) this.rules.set(stored.name, parsed.rule);
      else this.logger.error({ rule: stored.name, error: parsed.error }, 'stored alert rule no longer valid; skipped');
    }
    for (const [rule, state] of this.store.states()) if (this.rules.has(rule)) this.states.set(rule, state);
  }

  /** Starts the evaluation timer (after load()). */
  start(): void {
    this.schedule();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.notifier.close();
  }

  /** Waits until every notification queued so far has been delivered or given up (tests). */
  deliveriesIdle(): Promise<void> {
    return this.notifier.idle();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.evaluate(this.now())
        .catch((err: unknown) => this.logger.error({ err }, 'alert evaluation failed'))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One evaluation of every rule at nowMs. */
  async evaluate(nowMs: number): Promise<void> {
    const changed: { rule: string; state: AlertState }[] = [];
    const history: AlertHistoryEntry[] = [];
    const notices: AlertNotice[] = [];
    let evaluated = 0;
    for (const rule of [...this.rules.values()]) {
      // Reads are synchronous SQLite (~1 ms a rule): let receivers and MCP calls in between.
      if (++evaluated % YIELD_EVERY_RULES === 0) await new Promise((resolve) => setImmediate(resolve));
      let result;
      try {
        result = await evaluateRule(rule, this.sources, nowMs);
      } catch (err) {
        // A failed read says nothing about the condition: keep the state, say why in the overview.
        this.notes.set(rule.name, `evaluation failed: ${(err as Error).message}`);
        continue;
      }
      if (!this.rules.has(rule.name)) continue;
      if (result.note !== undefined) this.notes.set(rule.name, result.note);
      else this.notes.delete(rule.name);
      const prev = this.states.get(rule.name) ?? INITIAL_ALERT_STATE;
      const next = nextAlertState(prev, result, rule.for, nowMs);
      this.states.set(rule.name, next.state);
      if (next.events.length === 0) continue;
      changed.push({ rule: rule.name, state: next.state });
      for (const e of next.events) {
        history.push({ atMs: e.atMs, rule: rule.name, kind: 'state', from: e.from, to: e.to, value: e.value });
        if (e.notify) notices.push(this.notice(rule, next.state, e.to === 'firing' ? 'firing' : 'resolved'));
      }
    }
    this.recordSafely(changed, history);
    for (const n of notices) this.notifier.notify(n);
    if (nowMs - this.lastPruneMs >= PRUNE_EVERY_MS) {
      this.lastPruneMs = nowMs;
      const deleted = this.store.pruneHistory(nowMs - this.options.historyRetentionMs);
      if (deleted > 0) this.logger.debug({ deleted }, 'alert history pruned');
    }
  }

  private notice(rule: AlertRule, state: AlertState, status: 'firing' | 'resolved'): AlertNotice {
    return {
      rule,
      status,
      value: state.value,
      startsAtMs: state.firedAtMs ?? state.lastEvalMs ?? this.now(),
      ...(status === 'resolved' ? { endsAtMs: state.resolvedAtMs ?? this.now() } : {}),
      externalUrl: this.options.externalUrl(),
    };
  }

  private recordSafely(states: readonly { rule: string; state: AlertState }[], history: readonly AlertHistoryEntry[]): void {
    try {
      this.store.record(states, history);
    } catch (err) {
      this.logger.error({ err }, 'could not record alert state or history');
    }
  }

  async overview(query: { historyLimit: number; rule?: string }): Promise<{ alerts: AlertOverviewRow[]; history: AlertHistoryEntry[] }> {
    const alerts = [...this.rules.values()]
      .filter((r) => query.rule === undefined || r.name === query.rule)
      .map((r) => this.row(r))
      .sort((a, b) => ALERT_STATE_RANK[a.state] - ALERT_STATE_RANK[b.state] || (b.sinceMs ?? 0) - (a.sinceMs ?? 0) || a.name.localeCompare(b.name));
    return { alerts, history: query.historyLimit > 0 ? this.store.recentHistory(query.historyLimit, query.rule) : [] };
  }

  private row(rule: AlertRule): AlertOverviewRow {
    const s = this.states.get(rule.name) ?? INITIAL_ALERT_STATE;
    const note = this.notes.get(rule.name);
    return {
      name: rule.name,
      source: rule.source,
      type: rule.type,
      severity: rule.severity,
      expr: describeRule(rule),
      forMs: rule.for,
      receivers: rule.receivers,
      state: s.state,
      sinceMs: s.state === 'resolved' ? s.resolvedAtMs : s.activeSinceMs,
      value: s.value,
      lastEvalMs: s.lastEvalMs,
      ...(note !== undefined ? { note } : {}),
    };
  }

  async upsertRule(spec: Record<string, unknown>): Promise<AlertWriteResult> {
    const parsed = parseRule(spec, 'mcp');
    if (!parsed.ok) return parsed;
    const rule = parsed.rule;
    if (this.rules.get(rule.name)?.source === 'config') {
      return { ok: false, error: `rule "${rule.name}" comes from the config file; change it there, or upsert under another name` };
    }
    const unknown = rule.receivers.filter((r) => !this.receiverNames.has(r));
    if (unknown.length > 0) {
      return { ok: false, error: `unknown receiver ${unknown.join(', ')}; receivers are configured in alerting.receivers: ${[...this.receiverNames].join(', ') || '(none configured)'}` };
    }
    const created = this.store.upsertRule(rule.name, 'mcp', ruleSpec(rule), this.now());
    this.rules.set(rule.name, rule);
    return { ok: true, created, rule: this.row(rule) };
  }

  async deleteRule(name: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const rule = this.rules.get(name);
    if (!rule) return { ok: false, error: `no alert rule "${name}"; rules: ${[...this.rules.keys()].join(', ') || '(none)'}` };
    if (rule.source === 'config') return { ok: false, error: `rule "${name}" comes from the config file and cannot be deleted over MCP; remove it from alerting.rules` };
    const state = this.states.get(name);
    this.store.deleteRule(name);
    this.rules.delete(name);
    this.states.delete(name);
    this.notes.delete(name);
    if (state?.state === 'firing') {
      // Receivers would otherwise keep an alert firing that nothing will ever resolve.
      const nowMs = this.now();
      const resolved: AlertState = { ...state, state: 'resolved', activeSinceMs: null, resolvedAtMs: nowMs };
      this.recordSafely([], [{ atMs: nowMs, rule: name, kind: 'state', from: 'firing', to: 'resolved', value: null, detail: 'rule deleted' }]);
      this.notifier.notify(this.notice(rule, resolved, 'resolved'));
    }
    return { ok: true };
  }
}
