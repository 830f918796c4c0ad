/** What each analyze topic hands the tool: rows to bound, a few findings, context, and next calls. */
export interface DomainAnswer {
  source: string;
  precision: string;
  /** Most informative first (a byte-budget cut keeps the head). */
  rows: Record<string, unknown>[];
  /** Already bounded (a handful). */
  findings: Record<string, unknown>[];
  context: Record<string, unknown>;
  summary: string;
  hints: string[];
}

export interface DomainArgs {
  service?: string | undefined;
}
