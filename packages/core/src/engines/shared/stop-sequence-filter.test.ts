import { describe, expect, it } from 'vitest';
import { StopSequenceFilter } from './stop-sequence-filter.js';

describe('StopSequenceFilter', () => {
  it('holds back a possible stop prefix and cuts at a stop split across pushes', () => {
    const f = new StopSequenceFilter(['END']);
    expect(f.push('abc E')).toBe('abc ');
    expect(f.push('N')).toBe('');
    expect(f.push('Dxyz')).toBe('');
    expect(f.stopped).toBe(true);
    expect(f.matched).toBe('END');
    expect(f.flush()).toBe('');
  });

  it('releases held text that turned out not to be a stop, and flushes the rest', () => {
    const f = new StopSequenceFilter(['END']);
    expect(f.push('E')).toBe('');
    expect(f.push('x')).toBe('Ex');
    expect(f.push('EN')).toBe('');
    expect(f.flush()).toBe('EN');
    expect(f.stopped).toBe(false);
    expect(f.matched).toBeUndefined();
  });

  it('stops at the earliest of several stops and passes everything without stops', () => {
    const f = new StopSequenceFilter(['two', 'one']);
    expect(f.push('zero one two')).toBe('zero ');
    expect(f.matched).toBe('one');
    const none = new StopSequenceFilter([]);
    expect(none.push('anything')).toBe('anything');
  });
});
