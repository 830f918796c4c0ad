import type { AlertRule } from './rules.js';
import { alertLabels, describeRule } from './rules.js';

/** One notification: a rule's alert that started firing or resolved. */
export interface AlertNotice {
  rule: AlertRule;
  status: 'firing' | 'resolved';
  value: number | null;
  startsAtMs: number;
  /** Resolved notices only. */
  endsAtMs?: number;
  /** Base of generatorURL. */
  externalUrl: string;
}

/** Alertmanager writes the zero time as endsAt of an alert that is still firing. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Prometheus' label-set fingerprint (model.LabelSet.Fingerprint): 64-bit FNV-1a over the label names
 * sorted, each name and value followed by the 0xff separator, printed as 16 hex digits. Receivers that
 * deduplicate by fingerprint then treat our alerts like Prometheus ones.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let h = 0xcbf29ce484222325n;
  const add = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * prime) & mask;
  };
  const sep = Uint8Array.of(0xff);
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add(sep);
    add(enc.encode(labels[name] ?? ''));
    add(sep);
  }
  return h.toString(16).padStart(16, '0');
}

function annotations(n: AlertNotice): Record<string, string> {
  const value = n.value === null ? 'no data' : String(n.value);
  return { summary: `${n.rule.name}: ${describeRule(n.rule)}`, value, ...n.rule.annotations };
}

/**
 * The Alertmanager webhook body (version "4"), one alert per notification, grouped by alertname: what
 * a receiver written for Alertmanager (e.g. a chat bridge) accepts unchanged.
 */
export function alertmanagerPayload(n: AlertNotice, receiver: string): Record<string, unknown> {
  const labels = alertLabels(n.rule);
  const ann = annotations(n);
  const generatorURL = `${n.externalUrl.replace(/\/$/, '')}/mcp?tool=alerts&rule=${encodeURIComponent(n.rule.name)}`;
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(n.rule.name)}}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels: { alertname: n.rule.name },
    commonLabels: labels,
    commonAnnotations: ann,
    externalURL: n.externalUrl,
    alerts: [
      {
        status: n.status,
        labels,
        annotations: ann,
        startsAt: new Date(n.startsAtMs).toISOString(),
        endsAt: n.status === 'resolved' && n.endsAtMs !== undefined ? new Date(n.endsAtMs).toISOString() : ZERO_TIME,
        generatorURL,
        fingerprint: labelsFingerprint(labels),
      },
    ],
  };
}

/** spanlens' own body: flat, with the rule's condition and the value that triggered it. */
export function jsonPayload(n: AlertNotice, receiver: string): Record<string, unknown> {
  return {
    receiver,
    status: n.status,
    rule: n.rule.name,
    type: n.rule.type,
    severity: n.rule.severity,
    expr: describeRule(n.rule),
    value: n.value,
    threshold: n.rule.threshold ?? null,
    labels: alertLabels(n.rule),
    annotations: annotations(n),
    startsAt: new Date(n.startsAtMs).toISOString(),
    ...(n.endsAtMs !== undefined ? { endsAt: new Date(n.endsAtMs).toISOString() } : {}),
  };
}
