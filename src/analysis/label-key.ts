import type { Labels } from '../model/metric.js';

/** Sorted-key JSON of a label set: a stable key for grouping and ordering. */
export function canonicalLabelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(labels[k])}`).join(',')}}`;
}
