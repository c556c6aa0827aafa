import { describe, expect, it } from 'vitest';
import { tokenLogprob } from './token-logprob.js';

const text = (id: number) => `t${id}`;

describe('tokenLogprob', () => {
  it('is the log-softmax of the logits (temperature 1), the chosen token and the top N, most likely first', () => {
    const logits = [1, 3, 2, 3, -1];
    const logZ = Math.log(logits.reduce((s, x) => s + Math.exp(x), 0));
    const r = tokenLogprob(logits, 2, 3, text);
    expect(r.token).toBe('t2');
    expect(r.logprob).toBeCloseTo(2 - logZ, 12);
    // Ties keep the lower id first.
    expect(r.topLogprobs!.map((t) => t.token)).toEqual(['t1', 't3', 't2']);
    expect(r.topLogprobs![0]!.logprob).toBeCloseTo(3 - logZ, 12);
    const probs = logits.map((_, i) => Math.exp(tokenLogprob(logits, i, 0, text).logprob));
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('lists no alternatives for top 0, and at most the vocabulary', () => {
    expect(tokenLogprob([0, 0], 0, 0, text)).toEqual({ token: 't0', logprob: -Math.log(2) });
    expect(tokenLogprob([0, 1], 1, 20, text).topLogprobs!.map((t) => t.token)).toEqual(['t1', 't0']);
  });

  it('stays finite for large logits (shifted by the maximum)', () => {
    const r = tokenLogprob([1000, 999], 1, 1, text);
    expect(r.logprob).toBeCloseTo(-1 - Math.log(1 + Math.exp(-1)), 9);
  });
  it('floors at -9999 (a masked logit of -Infinity or an underflow): never -Infinity, which JSON turns into null', () => {
    const r = tokenLogprob([0, -Infinity, -20000], 1, 3, text);
    expect(r.logprob).toBe(-9999);
    expect(r.topLogprobs!.map((t) => t.logprob)).toEqual([0, -9999, -9999]);
    expect(JSON.parse(JSON.stringify(r)).logprob).toBe(-9999);
  });
});
