/**
 * The error taxonomy every stage uses; receivers map it to wire status codes in one table
 * (receivers/otlp/status.ts). Anything that is not one of these is treated as retryable: an internal
 * failure must never tell a client to drop its data.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly code: 'invalid_argument' | 'payload_too_large' | 'unsupported' = 'invalid_argument',
  ) {
    super(message);
  }
}

export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryable = true;
  constructor(
    message: string,
    /** How long the client should wait; sent as RetryInfo / Retry-After. */
    readonly retryAfterMs: number,
    readonly code: 'unavailable' | 'overloaded' = 'unavailable',
  ) {
    super(message);
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}
