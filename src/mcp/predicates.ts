import { z } from 'zod';
import type { AttributeValue, TraceSpan } from '../model/trace.js';
import { ToolError } from './errors.js';

export const predicateSchema = z.object({
  key: z.string().min(1),
  op: z.enum(['=', '!=', '>', '<', '~', 'exists']).describe('~ regex'),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
});
export type Predicate = z.infer<typeof predicateSchema>;

/** A span test for every predicate (all must hold); bad regexes and missing values are call errors. */
export function compilePredicates(predicates: readonly Predicate[]): (span: TraceSpan) => boolean {
  const tests = predicates.map((p): ((v: AttributeValue | undefined) => boolean) => {
    if (p.op === 'exists') return (v) => v !== undefined && v !== null;
    if (p.value === undefined) throw new ToolError(`where: op "${p.op}" on ${p.key} needs a value`);
    const want = p.value;
    switch (p.op) {
      case '=': return (v) => v !== undefined && String(v) === String(want);
      case '!=': return (v) => v === undefined || String(v) !== String(want);
      case '>': return (v) => v !== undefined && Number(v) > Number(want);
      case '<': return (v) => v !== undefined && Number(v) < Number(want);
      case '~': {
        let re: RegExp;
        try {
          re = new RegExp(String(want));
        } catch {
          throw new ToolError(`where: "${String(want)}" is not a valid regular expression`);
        }
        return (v) => v !== undefined && v !== null && re.test(String(v));
      }
    }
  });
  return (span) => predicates.every((p, i) => (tests[i] as (v: AttributeValue | undefined) => boolean)(span.attributes[p.key] ?? span.resource[p.key]));
}
