import { describe, expect, it } from 'vitest';
import { markedSystemMessage, type SystemBlock } from './marked-system-message.js';

const EPH = { type: 'ephemeral' } as const;
const H1 = { type: 'ephemeral', ttl: '1h' } as const;
const b = (text: string, mark?: typeof EPH | typeof H1): SystemBlock => ({ text, mark });

describe('markedSystemMessage', () => {
  it('no mark, or only marks with no text before them: undefined (the caller joins as without marks)', () => {
    expect(markedSystemMessage([b('a'), b('b')], '\n')).toBeUndefined();
    expect(markedSystemMessage([b('', EPH), b('a'), b('b')], '\n')).toBeUndefined();
    expect(markedSystemMessage([b(''), b('', EPH)], '\n')).toBeUndefined();
  });

  it('one message whose content is the unmarked join (empty blocks and their separators kept), parts the non-empty blocks with their marks', () => {
    expect(markedSystemMessage([b('a'), b(''), b('c', EPH)], '\n')).toEqual({
      role: 'system',
      content: 'a\n\nc',
      parts: [{ type: 'text', text: 'a' }, { type: 'text', text: 'c', cacheControl: EPH }],
    });
    expect(markedSystemMessage([b('a'), b('c', EPH)], '')).toEqual({ role: 'system', content: 'ac', parts: [{ type: 'text', text: 'a' }, { type: 'text', text: 'c', cacheControl: EPH }] });
  });

  it('marks on earlier blocks (Claude Code: an unmarked header, then two marked blocks) keep one message', () => {
    expect(markedSystemMessage([b('h'), b('i', EPH), b('p', EPH), b('d'), b('e')], '\n')).toEqual({
      role: 'system',
      content: 'h\ni\np\nd\ne',
      parts: [{ type: 'text', text: 'h' }, { type: 'text', text: 'i', cacheControl: EPH }, { type: 'text', text: 'p', cacheControl: EPH }, { type: 'text', text: 'd' }, { type: 'text', text: 'e' }],
    });
  });

  it('a mark on an empty block moves to the nearest non-empty block before it (a later mark wins); trailing empty blocks keep their separators', () => {
    expect(markedSystemMessage([b('a', H1), b('', EPH), b('')], '\n')).toEqual({ role: 'system', content: 'a\n\n', parts: [{ type: 'text', text: 'a', cacheControl: EPH }] });
    expect(markedSystemMessage([b('a'), b(''), b('', EPH), b('z')], '')).toEqual({
      role: 'system',
      content: 'az',
      parts: [{ type: 'text', text: 'a', cacheControl: EPH }, { type: 'text', text: 'z' }],
    });
    expect(markedSystemMessage([b('a', EPH), b('')], '\n')).toEqual({ role: 'system', content: 'a\n', parts: [{ type: 'text', text: 'a', cacheControl: EPH }] });
  });

  it('does not share the caller\u2019s mark objects with another part', () => {
    const blocks = [b('a', EPH), b('b')];
    const out = markedSystemMessage(blocks, '\n')!;
    expect(out.parts![1]).toEqual({ type: 'text', text: 'b' });
    expect(blocks).toEqual([b('a', EPH), b('b')]);
  });
});
