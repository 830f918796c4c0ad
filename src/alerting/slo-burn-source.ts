import { collectSloEvents, type SloEventSources } from '../analysis/slo-events.js';
import { objectivesOf } from '../analysis/slo.js';
import type { SloBurnSource, SloCatalog } from '../store/ports.js';

/**
 * What a burn_rate alert rule reads: the same per-window events slo_status shows, so an alert and the
 * SLO report can never disagree about a burn rate.
 */
export function sloBurnSource(catalog: SloCatalog, events: SloEventSources): SloBurnSource {
  return {
    async burnEvents(name, _windows, nowMs) {
      const stored = await catalog.get(name);
      if (!stored) return null;
      const collected = await collectSloEvents(stored.definition, events, nowMs);
      return objectivesOf(stored.definition).map((o) => ({ objective: o.name, target: o.target, events: collected.objectives[o.name]?.windows ?? {} }));
    },
  };
}
