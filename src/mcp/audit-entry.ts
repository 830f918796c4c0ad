import { createHash } from 'node:crypto';
import type { AuditEntry } from '../store/ports.js';
import type { ToolCallRecord } from './deps.js';

const PREVIEW_CHARS = 160;
const SECRET_KEY = /token|secret|password|passwd|authorization|api[_-]?key|credential/i;

/**
 * What the audit log keeps of a tool call: the caller's identity (a token name, never a secret), a
 * SHA-256 of the arguments as canonical JSON (keys sorted at every level, so equal arguments always
 * give the same digest) and a short preview with secret-looking values masked.
 */
export function auditEntryOf(call: ToolCallRecord, timeMs: number): AuditEntry {
  const canonical = canonicalJson(call.args ?? {});
  return {
    timeMs,
    transport: call.caller.transport,
    identity: call.caller.identity,
    role: call.caller.role,
    tool: call.tool,
    writes: call.writes,
    argsSha256: createHash('sha256').update(canonical).digest('hex'),
    argsPreview: preview(call.args ?? {}),
    durationMs: Math.round(call.durationMs * 1000) / 1000,
    resultBytes: call.resultBytes,
    truncated: call.truncated,
    outcome: call.outcome,
    ...(call.error !== undefined ? { error: call.error.slice(0, 300) } : {}),
  };
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

function preview(args: unknown): string {
  const masked = JSON.stringify(sortKeys(args), (key, v: unknown) => (key !== '' && SECRET_KEY.test(key) ? '***' : typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…` : v));
  return masked.length > PREVIEW_CHARS ? `${masked.slice(0, PREVIEW_CHARS)}…` : masked;
}
