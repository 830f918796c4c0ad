import type { Exemplar, ExpositionFormat, Label, MetricFamily } from '../../src/receivers/prometheus/exposition.js';

/**
 * Writes families back as exposition text, the way client libraries do (one space, labels in order,
 * Go-style `+Inf`/`NaN`). Used to serve test targets and for parse ∘ write round-trip properties.
 */
export function writeExposition(families: MetricFamily[], format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const lines: string[] = [];
  for (const f of families) {
    if (f.help !== undefined) lines.push(`# HELP ${f.name} ${escapeHelp(f.help, om)}`);
    if (f.typed) lines.push(`# TYPE ${f.name} ${f.type}`);
    if (om && f.unit !== undefined) lines.push(`# UNIT ${f.name} ${f.unit}`);
    for (const s of f.samples) {
      let line = `${s.name}${writeLabels(s.labels)} ${formatNumber(s.value)}`;
      if (s.timeNs !== undefined) line += ` ${formatTime(s.timeNs, om)}`;
      if (s.exemplar) line += ` ${writeExemplar(s.exemplar)}`;
      lines.push(line);
    }
  }
  if (om) lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatTime(ns: bigint, om: boolean): string {
  if (!om) return String(ns / 1_000_000n);
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const frac = String(abs % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}${frac ? `.${frac}` : ''}`;
}

function writeExemplar(e: Exemplar): string {
  return `# ${writeLabels(e.labels, true)} ${formatNumber(e.value)}${e.timeNs !== undefined ? ` ${formatTime(e.timeNs, true)}` : ''}`;
}

function writeLabels(labels: Label[], always = false): string {
  if (labels.length === 0) return always ? '{}' : '';
  return `{${labels.map((l) => `${l.name}="${escapeLabel(l.value)}"`).join(',')}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string, om: boolean): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? s.replace(/"/g, '\\"') : s;
}
