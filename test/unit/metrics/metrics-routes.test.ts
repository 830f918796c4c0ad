import { expect, it } from 'vitest';
import { quantileShorthand } from '../../../src/api/metrics-routes.js';

it('reads percentile shorthands', () => {
  expect(['p5', 'p50', 'p90', 'p99', 'p999', 'p99.9', 'p9999', 'p100', 'p0'].map(quantileShorthand)).toEqual([
    0.05, 0.5, 0.9, 0.99, 0.999, 0.999, 0.9999, 1, 0,
  ]);
  expect(quantileShorthand('rate')).toBeNull();
});
