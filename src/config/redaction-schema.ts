import { z } from 'zod';

/** Turns `/source/flags` or a bare source into a RegExp, as the redactor does (codec/redact-values.ts). */
function compiles(source: string): boolean {
  const literal = /^\/(.+)\/([dimsuy]*)$/s.exec(source);
  try {
    new RegExp(literal ? (literal[1] as string) : source, `${literal ? literal[2] : ''}g`);
    return true;
  } catch {
    return false;
  }
}

/**
 * `redaction:` secrets replaced at ingest, before anything is stored. Key lists match case-insensitively;
 * deny keys also match the last dotted segment (`http.request.header.authorization`).
 */
export const redactionSchema = z
  .object({
    enabled: z.boolean().default(true),
    replacement: z.string().default('[REDACTED]'),
    /** Added to the built-in deny list (authorization, cookie, password, token, …). */
    denyKeys: z.array(z.string().min(1)).default([]),
    /** Whole keys never redacted, by key or by value. */
    allowKeys: z.array(z.string().min(1)).default([]),
    patterns: z
      .object({
        email: z.boolean().default(true),
        card: z.boolean().default(true),
        bearer: z.boolean().default(true),
        jwt: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Regular expressions (`source` or `/source/flags`); every match in a string value is replaced. */
    customPatterns: z
      .array(z.string().min(1).refine(compiles, { message: 'not a valid JavaScript regular expression' }))
      .default([]),
    dbStatement: z.boolean().default(true),
    urlQuery: z.boolean().default(true),
  })
  .strict()
  .prefault({});
