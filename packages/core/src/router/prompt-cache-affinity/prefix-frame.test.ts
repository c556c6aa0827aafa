import { describe, expect, it } from 'vitest';
import { frameValue } from './prefix-frame.js';

describe('frameValue', () => {
  it('does not depend on key order, drops undefined and function members as JSON does, honours toJSON', () => {
    expect(frameValue({ a: 1, b: 'x' })).toBe(frameValue({ b: 'x', a: 1 }));
    expect(frameValue({ a: 1, u: undefined, f: () => 1 })).toBe(frameValue({ a: 1 }));
    expect(frameValue({ at: new Date(0) })).toBe(frameValue({ at: '1970-01-01T00:00:00.000Z' }));
  });

  it('never frames two different values alike (strings carry their length; every item is self-delimiting)', () => {
    const values: unknown[] = [
      'ab', ['a', 'b'], ['ab'], { a: 'b' }, { ab: '' }, 's2:ab', '2:ab', 1, '1', true, 'true', null, 'null', [], {}, [null], [[]],
      { a: ['b', 'c'] }, { a: ['bc'] }, { a: 'b', c: 'd' }, { a: 'b"c' }, new Uint8Array([97, 98]), 'x2:ab',
    ];
    const framed = values.map(frameValue);
    expect(new Set(framed).size).toBe(values.length);
  });

  it('refuses a circular structure (the lookup is then a miss)', () => {
    const o: Record<string, unknown> = {};
    o['self'] = o;
    expect(() => frameValue(o)).toThrow(TypeError);
  });
});
