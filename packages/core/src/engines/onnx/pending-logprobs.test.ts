import { describe, expect, it } from 'vitest';
import { PendingLogprobs } from './pending-logprobs.js';

const entry = (token: string, logprob = -1) => ({ token, logprob });

describe('PendingLogprobs', () => {
  it('releases a token once all of its text is sent (text held back as a possible stop waits, its token with it)', () => {
    const p = new PendingLogprobs();
    p.add(entry('cat'));
    expect(p.release(3)).toEqual([entry('cat')]);
    p.add(entry(' s'));
    expect(p.release(1)).toEqual([]); // " " sent, "s" held back (a stop "sun" could begin)
    p.add(entry('at'));
    expect(p.release(3)).toEqual([entry(' s'), entry('at')]);
    expect(p.end()).toEqual([]);
  });

  it('a stop sequence that ended the answer: its tokens are dropped; one it began inside keeps the text before it', () => {
    const p = new PendingLogprobs();
    p.add(entry('cat'));
    p.add(entry(' sat'));
    p.add(entry(' on'));
    // Stop " on": "cat sat" sent.
    expect([...p.release(7), ...p.end()].map((e) => e.token)).toEqual(['cat', ' sat']);
    const q = new PendingLogprobs();
    q.add(entry('cat'));
    q.add(entry(' sat on'));
    // Stop "t on": "cat sa" sent.
    expect([...q.release(6), ...q.end()].map((e) => e.token)).toEqual(['cat', ' sa']);
  });

  it('a character split across tokens: the first token adds \'\' and goes with the token that completes it; a dangling one ends the last token', () => {
    const p = new PendingLogprobs();
    p.add(entry(''));
    expect(p.release(0)).toEqual([entry('')]);
    const q = new PendingLogprobs();
    q.add(entry('x'));
    expect(q.release(1)).toEqual([entry('x')]);
    q.add(entry(''));
    q.add(entry('\u00e9'));
    expect(q.release(1)).toEqual([entry(''), entry('\u00e9')]);
    q.add(entry(''));
    q.appendToLast('\uFFFD');
    expect([...q.release(1), ...q.end()]).toEqual([entry('\uFFFD')]);
  });
});
