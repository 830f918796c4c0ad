import { describe, expect, it } from 'vitest';
import { matchesAll, parseSelector, SelectorError } from '../../../src/analysis/label-matchers.js';

describe('selectors', () => {
  it('parses names, dotted label names and all four operators', () => {
    expect(parseSelector('cache_hits_total')).toEqual({ metric: 'cache_hits_total', matchers: [] });
    expect(parseSelector('m{service.name="a b", level=~"L1|L2",x!="",y!~"a\\"b.*"}')).toEqual({
      metric: 'm',
      matchers: [
        { label: 'service.name', op: '=', value: 'a b' },
        { label: 'level', op: '=~', value: 'L1|L2' },
        { label: 'x', op: '!=', value: '' },
        { label: 'y', op: '!~', value: 'a"b.*' },
      ],
    });
  });

  it('says what is wrong', () => {
    expect(() => parseSelector('{a="b"}')).toThrow(SelectorError);
    expect(() => parseSelector('m{a=b}')).toThrow(/double-quoted/);
    expect(() => parseSelector('m{a=~"("}')).toThrow(/invalid regex/);
  });

  it('matches like Prometheus: anchored regexes, missing labels read as empty', () => {
    const labels = { level: 'L1', 'service.name': 'api' };
    expect(matchesAll(labels, parseSelector('m{level=~"L1|L2"}').matchers)).toBe(true);
    expect(matchesAll(labels, parseSelector('m{level=~"L"}').matchers)).toBe(false);
    expect(matchesAll(labels, parseSelector('m{missing=""}').matchers)).toBe(true);
    expect(matchesAll(labels, parseSelector('m{level!~"L[23]",service.name!="web"}').matchers)).toBe(true);
  });
});
