import { z } from 'zod';
import { duration } from './units.js';

/**
 * One access token. The secret comes from a file (`file:`, e.g. a mounted Kubernetes secret; one
 * trailing newline is ignored) or an environment variable (`env:`); `secret:` inline in the YAML works
 * but logs a warning at start, because config files end up in repositories and images.
 */
export const tokenSchema = z
  .object({
    /** Shown in the audit log and in refusals; never the secret. */
    name: z.string().regex(/^[A-Za-z0-9._:@-]{1,64}$/, 'letters, digits and ._:@- only, at most 64'),
    /** ingest: OTLP exports only. read: API and MCP read tools. admin: read + audit log + MCP writes (with mcp.allowWrites). */
    role: z.enum(['ingest', 'read', 'admin']),
    file: z.string().min(1).optional(),
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    secret: z.string().min(16, 'at least 16 characters').optional(),
  })
  .strict()
  .refine((t) => [t.file, t.env, t.secret].filter((s) => s !== undefined).length === 1, {
    message: 'give exactly one of file:, env: or secret: (inline, discouraged)',
  });

export const authSchema = z
  .object({
    tokens: z.array(tokenSchema).default([]).refine((tokens) => new Set(tokens.map((t) => t.name)).size === tokens.length, {
      message: 'token names must be unique',
    }),
    /**
     * Start even when a listener bound off loopback takes requests without a token (no token of a role
     * that can use it, and no client-certificate TLS), e.g. behind an authenticating proxy.
     */
    allowUnauthenticatedNonLoopback: z.boolean().default(false),
  })
  .strict()
  .prefault({});

/** TLS for one listener; with clientCaFile, clients must present a certificate that CA signed (mTLS). */
export const tlsSchema = z
  .object({ certFile: z.string().min(1), keyFile: z.string().min(1), clientCaFile: z.string().min(1).optional() })
  .strict();

/** The audit log of MCP tool calls (SQLite table audit_log), with its own retention. */
export const auditSchema = z
  .object({
    enabled: z.boolean().default(true),
    maxAge: duration.prefault('90d'),
    /** Oldest rows are deleted beyond this many. */
    maxRows: z.number().int().min(1).default(200_000),
    /** Rows are written in batches this often, off the request path. */
    flushInterval: duration.prefault('1s'),
  })
  .strict()
  .prefault({});

export type AuthConfig = z.output<typeof authSchema>;
export type TokenConfig = z.output<typeof tokenSchema>;
export type TlsConfig = z.output<typeof tlsSchema>;
export type AuditConfig = z.output<typeof auditSchema>;
