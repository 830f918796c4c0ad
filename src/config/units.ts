import { z } from 'zod';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** "7d", "90s", "250ms", "1h30m", or a number of milliseconds. */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const parts = [...value.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gi)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined !== value.trim()) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration like 250ms, 30s, 15m, 1h, 7d` });
    return z.NEVER;
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (DURATION_UNITS_MS[(p[2] as string).toLowerCase()] as number), 0);
});

/** "64MiB", "4GB", "512kb", or a number of bytes. */
export const byteSize = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[(match?.[2] || 'b').toLowerCase()];
  if (!match || unit === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size like 64MiB, 4GiB, 500MB` });
    return z.NEVER;
  }
  return Math.floor(Number(match[1]) * unit);
});

/** HOST:PORT; port 0 picks a free port. */
export const endpoint = z.string().regex(/^(\[[^\]]+\]|[^:\s]*):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:4317');
