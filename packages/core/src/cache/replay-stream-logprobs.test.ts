/**
 * A cached answer's log probabilities replayed as a live stream carries them: each token's text delta right
 * followed by its `logprobs` part, folding back to the same answer.
 */
import { describe, expect, it } from 'vitest';
import { StreamAccumulator } from '../router/stream-accumulator.js';
import type { StreamPart, TokenLogprob } from '../spec/index.js';
import { collect } from '../test/async.test-helpers.js';
import type { CachedAnswer } from './cached-answer.js';
import { cachedAnswerOf } from './cached-answer.js';
import { replayAsStream } from './replay-stream.js';

const TOKENS: TokenLogprob[] = [
  { token: 'Hel', logprob: -0.5, bytes: [72, 101, 108], topLogprobs: [{ token: 'Hel', logprob: -0.5 }, { token: 'Hi', logprob: -1.5 }] },
  { token: 'lo ', logprob: -0.25 },
  { token: '', logprob: -3 },
  { token: 'w\u00f6rld', logprob: 0 },
];

function answer(text: string, logprobs: TokenLogprob[] | undefined): CachedAnswer {
  return cachedAnswerOf(
    { text, toolCalls: [], finishReason: 'stop', usage: { inputTokens: 2, outputTokens: 4, totalTokens: 6 }, deployment: 'd', model: 'm', provider: 'p', ...(logprobs ? { logprobs } : {}) },
    1,
  );
}

function fold(parts: StreamPart[]) {
  const acc = new StreamAccumulator(() => 0);
  for (const p of parts) acc.add(p);
  return acc.result();
}

describe('replayAsStream with logprobs', () => {
  it('tokens that spell the text: one delta per token, each followed by its logprobs part (a token without text: the part alone)', async () => {
    const parts = await collect(replayAsStream(answer('Hello w\u00f6rld', TOKENS)));
    const body = parts.filter((p) => p.type === 'text-delta' || p.type === 'logprobs');
    expect(body).toEqual([
      { type: 'text-delta', delta: 'Hel' },
      { type: 'logprobs', logprobs: [TOKENS[0]] },
      { type: 'text-delta', delta: 'lo ' },
      { type: 'logprobs', logprobs: [TOKENS[1]] },
      { type: 'logprobs', logprobs: [TOKENS[2]] },
      { type: 'text-delta', delta: 'w\u00f6rld' },
      { type: 'logprobs', logprobs: [TOKENS[3]] },
    ]);
    const folded = fold(parts);
    expect(folded.text).toBe('Hello w\u00f6rld');
    expect(folded.logprobs).toEqual(TOKENS);
  });

  it('tokens that do not spell the text (a split character): the whole text, then every token in one part', async () => {
    const split: TokenLogprob[] = [{ token: '\ufffd', logprob: -1, bytes: [0xe2] }, { token: '\ufffd', logprob: -1, bytes: [0x82, 0xac] }];
    const parts = await collect(replayAsStream(answer('\u20ac', split)));
    expect(parts.filter((p) => p.type === 'text-delta' || p.type === 'logprobs')).toEqual([
      { type: 'text-delta', delta: '\u20ac' },
      { type: 'logprobs', logprobs: split },
    ]);
    expect(fold(parts).logprobs).toEqual(split);
  });

  it('without logprobs (or with none) the text is split on words as before, and no logprobs part is sent', async () => {
    for (const logprobs of [undefined, []]) {
      const parts = await collect(replayAsStream(answer('Hello big world', logprobs)));
      expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta)).toEqual(['Hello ', 'big ', 'world']);
      expect(parts.some((p) => p.type === 'logprobs')).toBe(false);
    }
  });

  it('the cache entry keeps logprobs (and only when present)', () => {
    expect(answer('x', TOKENS).logprobs).toEqual(TOKENS);
    expect(answer('x', undefined)).not.toHaveProperty('logprobs');
  });
});
