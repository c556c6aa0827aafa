import { describe, expect, it } from 'vitest';
import { systemSegments, type SystemBlock } from './system-segments.js';

const EPH = { type: 'ephemeral' } as const;
const H1 = { type: 'ephemeral', ttl: '1h' } as const;
const b = (text: string, mark?: typeof EPH | typeof H1): SystemBlock => ({ text, mark });

describe('systemSegments', () => {
  it('no mark, or only marks with no text before them: undefined (the caller joins as without marks)', () => {
    expect(systemSegments([b('a'), b('b')], '\n')).toBeUndefined();
    expect(systemSegments([b('', EPH), b('a'), b('b')], '\n')).toBeUndefined();
  });

  it('the last block marked: one message, the blocks joined with the separator, with the mark', () => {
    expect(systemSegments([b('a'), b(''), b('c', EPH)], '\n')).toEqual([{ role: 'system', content: 'a\n\nc', cacheControl: EPH }]);
    expect(systemSegments([b('a'), b('c', EPH)], '')).toEqual([{ role: 'system', content: 'ac', cacheControl: EPH }]);
  });

  it('each marked block ends a segment; blocks after the last mark are one unmarked message', () => {
    expect(systemSegments([b('a', H1), b('b'), b('c', EPH), b('d'), b('e')], '\n')).toEqual([
      { role: 'system', content: 'a', cacheControl: H1 },
      { role: 'system', content: 'b\nc', cacheControl: EPH },
      { role: 'system', content: 'd\ne' },
    ]);
  });

  it('a mark on an empty block moves to the nearest non-empty block before it (a later mark wins); trailing empty blocks are left out', () => {
    expect(systemSegments([b('a', H1), b('', EPH), b('')], '\n')).toEqual([{ role: 'system', content: 'a', cacheControl: EPH }]);
    expect(systemSegments([b('a'), b(''), b('', EPH), b('z')], '')).toEqual([
      { role: 'system', content: 'a', cacheControl: EPH },
      { role: 'system', content: 'z' },
    ]);
  });
});
