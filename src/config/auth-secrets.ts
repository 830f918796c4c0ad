import { readFileSync } from 'node:fs';
import { ConfigError } from './load.js';
import type { SpanlensConfig } from './schema.js';

export interface ResolvedToken {
  name: string;
  role: 'ingest' | 'read' | 'admin';
  secret: string;
}

export interface ResolvedTokens {
  tokens: ResolvedToken[];
  /** Lines to log at warn level (they name tokens, never secrets). */
  warnings: string[];
}

const MIN_SECRET_LENGTH = 16;

/**
 * Reads every token secret (auth.tokens from files or environment variables, plus mcp.token as an admin
 * token named "mcp.token"). All problems are reported at once, each with its config path; no message
 * contains a secret.
 */
export function resolveTokens(config: SpanlensConfig, env: Readonly<Record<string, string | undefined>>): ResolvedTokens {
  const problems: string[] = [];
  const warnings: string[] = [];
  const tokens: ResolvedToken[] = [];
  config.auth.tokens.forEach((t, i) => {
    const where = `auth.tokens.${i}`;
    let secret: string | undefined;
    if (t.file !== undefined) {
      try {
        secret = readFileSync(t.file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push(`${where}.file: cannot read ${t.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        return;
      }
    } else if (t.env !== undefined) {
      secret = env[t.env];
      if (secret === undefined || secret === '') {
        problems.push(`${where}.env: environment variable ${t.env} is not set`);
        return;
      }
    } else {
      secret = t.secret;
      warnings.push(`token "${t.name}" has its secret inline in the config; prefer file: or env:`);
    }
    if (secret === undefined) return;
    if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) {
      problems.push(`${where}: the secret of token "${t.name}" must be at least ${MIN_SECRET_LENGTH} characters without whitespace`);
      return;
    }
    tokens.push({ name: t.name, role: t.role, secret });
  });
  if (config.mcp.token !== undefined) {
    if (tokens.some((t) => t.name === 'mcp.token')) problems.push('auth.tokens: the name "mcp.token" is taken by mcp.token');
    tokens.push({ name: 'mcp.token', role: 'admin', secret: config.mcp.token });
    warnings.push('mcp.token is an inline secret (an admin token named "mcp.token"); prefer auth.tokens with file: or env:');
  }
  for (let i = 0; i < tokens.length; i++) {
    for (let j = i + 1; j < tokens.length; j++) {
      if (tokens[i]?.secret === tokens[j]?.secret) problems.push(`auth.tokens: tokens "${tokens[i]?.name}" and "${tokens[j]?.name}" have the same secret`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { tokens, warnings };
}
