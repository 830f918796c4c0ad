import { nearestNames } from '../analysis/nearest-names.js';
import type { SpanReader } from '../store/ports.js';

/**
 * A call the model can fix: the message says what was wrong and what to do instead. The SDK turns a
 * throw from a tool handler into an `isError` result carrying this message.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

export async function unknownServiceError(spans: SpanReader, service: string): Promise<ToolError> {
  const names = (await spans.listServices()).map((s) => s.name);
  if (names.length === 0) return new ToolError(`unknown service "${service}": no spans are stored yet; check get_status`);
  return new ToolError(
    `unknown service "${service}". Nearest valid names: ${nearestNames(service, names).join(', ')}. Call list_services for all.`,
  );
}

export function unknownOperationError(service: string, operation: string, operations: readonly string[]): ToolError {
  const near = nearestNames(operation, operations);
  return new ToolError(
    `service "${service}" has no operation "${operation}" in this window. Nearest: ${near.join(', ') || '(none)'}. ` +
      `Call list_operations(service="${service}") for all, or widen the window.`,
  );
}
