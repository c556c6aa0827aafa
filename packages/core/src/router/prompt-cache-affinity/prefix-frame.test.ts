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

  it('frames a lone surrogate apart from U+FFFD and from its hex spelling, in values and in keys; well-formed strings stay verbatim', () => {
    const values: unknown[] = ['a\uD83D', 'a\uFFFD', 'a\uDE00', 'a\uD83D\uDE00', 'w2:0061d83d', { 'k\uD83D': 1 }, { 'k\uFFFD': 1 }];
    const framed = values.map(frameValue);
    expect(new Set(framed).size).toBe(values.length);
    // Hashing encodes the frame as UTF-8, which turns a lone surrogate into U+FFFD: the frames must differ as bytes.
    const bytes = framed.map((f) => Buffer.from(f, 'utf8').toString('hex'));
    expect(new Set(bytes).size).toBe(values.length);
    expect(frameValue('a\uD83D\uDE00')).toBe('s3:a\uD83D\uDE00');
    expect(frameValue('a\uD83D')).toBe('w2:0061d83d');
  });

  it('refuses a circular structure (the lookup is then a miss)', () => {
    const o: Record<string, unknown> = {};
    o['self'] = o;
    expect(() => frameValue(o)).toThrow(TypeError);
  });
});
