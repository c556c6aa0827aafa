import type * as NodeLlamaCpp from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { ggufLogprobs } from './gguf-logprobs.js';
import { SamplingEnded, watchSampledTokens } from './gguf-sampled-tokens.js';
import { answerTokenTexts } from './gguf-token-texts.js';

// The second pass of ggufLogprobs against a scripted sequence (the real model's numbers are checked in
// gguf-logprobs.test.ts): what it erases, how many positions each controlledEvaluate call carries, and that an abort
// stops it between calls. Vocabulary: token n decodes to " w<n>"; every position's distribution is the same.

const detokenize = (tokens: readonly number[]) => tokens.map((t) => ` w${t}`).join('');
const model = { detokenize } as unknown as NodeLlamaCpp.LlamaModel;
/** Token 0 most likely, then 1, 2...: p(n) = 2^-(n+1). */
const distribution = new Map(Array.from({ length: 8 }, (_, n) => [n, 2 ** -(n + 1)] as [number, number]));

class ScriptedSequence {
  tokens: number[];
  calls: string[] = [];
  chunkSizes: number[] = [];
  stateCellsStartIndex = 0;
  onChunk: (() => void) | undefined;
  constructor(tokens: number[]) {
    this.tokens = [...tokens];
  }
  get contextTokens() {
    return [...this.tokens];
  }
  get nextTokenIndex() {
    return this.tokens.length;
  }
  async eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>) {
    this.calls.push(`erase ${ranges.map((r) => `${r.start}-${r.end}`).join(',')}`);
    for (const r of [...ranges].reverse()) this.tokens.splice(r.start, r.end - r.start);
  }
  async clearHistory() {
    this.calls.push('clear');
    this.tokens = [];
  }
  async evaluateWithoutGeneratingNewTokens(tokens: number[]) {
    this.calls.push(`evaluate ${tokens.length}`);
    this.tokens.push(...tokens);
  }
  async controlledEvaluate(input: Array<[number, unknown]>) {
    this.chunkSizes.push(input.length);
    this.tokens.push(...input.map(([t]) => t));
    this.onChunk?.();
    return input.map(() => ({ next: { probabilities: distribution } }));
  }
  async *evaluate(tokens: number[]): AsyncGenerator<number, void, void | number | number[]> {
    this.tokens.push(...tokens);
    for (const t of [3, 0, 5]) yield t;
  }
}

const asSequence = (s: ScriptedSequence) => s as unknown as NodeLlamaCpp.LlamaContextSequence;
/** Token ids are branded numbers in node-llama-cpp's types. */
const ids = (xs: number[]) => xs as NodeLlamaCpp.Token[];
const prompt = ids([1, 2, 3, 4]);

describe('ggufLogprobs: the second pass', () => {
  it('erases only the answer and the prompt\'s last token (the prompt is not evaluated again), then evaluates in chunks of 32', async () => {
    const answer = ids(Array.from({ length: 70 }, (_, i) => i % 3));
    // After generation the sequence holds the prompt and every sampled token but the last.
    const seq = new ScriptedSequence([...prompt, ...answer.slice(0, -1)]);
    const r = await ggufLogprobs(model, asSequence(seq), prompt, answer, detokenize(answer), 2, new AbortController().signal);
    expect(seq.calls).toEqual([`erase 3-${prompt.length + answer.length - 1}`]);
    expect(seq.chunkSizes).toEqual([32, 32, 6]);
    expect(seq.tokens).toEqual([...prompt, ...answer.slice(0, -1)]);
    expect(r).toHaveLength(70);
    expect(r!.map((t) => t.token).join('')).toBe(detokenize(answer));
    r!.forEach((t, j) => {
      expect(t.logprob).toBeCloseTo(Math.log(2 ** -((j % 3) + 1)), 12);
      expect(t.topLogprobs).toEqual([
        { token: ' w0', logprob: Math.log(0.5) },
        { token: ' w1', logprob: Math.log(0.25) },
      ]);
    });
  });

  it('a sequence that no longer holds the prompt (or keeps a sliding window past it): cleared, and the prompt evaluated once more', async () => {
    const answer = ids([0, 1]);
    const other = new ScriptedSequence([9, 9, 9]);
    await ggufLogprobs(model, asSequence(other), prompt, answer, detokenize(answer), 0, new AbortController().signal);
    expect(other.calls).toEqual(['clear', 'evaluate 3']);
    const swa = new ScriptedSequence([...prompt, 0]);
    swa.stateCellsStartIndex = 3;
    await ggufLogprobs(model, asSequence(swa), prompt, answer, detokenize(answer), 0, new AbortController().signal);
    expect(swa.calls).toEqual(['clear', 'evaluate 3']);
    expect(swa.tokens).toEqual([...prompt, 0]);
  });

  it('an abort stops it between chunks: no further evaluation, no logprobs', async () => {
    const answer = ids(Array.from({ length: 100 }, () => 0));
    const seq = new ScriptedSequence([...prompt, ...answer.slice(0, -1)]);
    const controller = new AbortController();
    seq.onChunk = () => controller.abort();
    const r = await ggufLogprobs(model, asSequence(seq), prompt, answer, detokenize(answer), 1, controller.signal);
    expect(r).toBeUndefined();
    expect(seq.chunkSizes).toEqual([32]);
  });

  it('lists only the tokens whose text is the answer\'s (the end token and a stop string\'s tokens are not)', async () => {
    const answer = ids([0, 1, 2, 7]);
    const seq = new ScriptedSequence([...prompt, 0, 1, 2]);
    const r = await ggufLogprobs(model, asSequence(seq), prompt, answer, ' w0 w1', 0, new AbortController().signal);
    expect(r!.map((t) => t.token)).toEqual([' w0', ' w1']);
    expect(seq.chunkSizes).toEqual([2]);
    expect(await ggufLogprobs(model, asSequence(seq), prompt, answer, '', 0, new AbortController().signal)).toEqual([]);
  });
});

describe('watchSampledTokens', () => {
  it('hands on every token the sequence\'s evaluate yields, unchanged', async () => {
    const seq = new ScriptedSequence([]);
    const sampled: NodeLlamaCpp.Token[] = [];
    watchSampledTokens(asSequence(seq), (t) => sampled.push(t) > 0);
    const seen: NodeLlamaCpp.Token[] = [];
    for await (const t of asSequence(seq).evaluate(ids([1, 2]))) {
      seen.push(t);
      if (t === 0) break; // LlamaCompletion returns from its loop: the generator is closed
    }
    expect(seen).toEqual([3, 0]);
    expect(sampled).toEqual([3, 0]);
    expect(seq.tokens).toEqual([1, 2]);
  });

  it('once the callback says no, asking for another token throws SamplingEnded (no token is sampled after it)', async () => {
    const seq = new ScriptedSequence([]);
    const sampled: NodeLlamaCpp.Token[] = [];
    watchSampledTokens(asSequence(seq), (t) => sampled.push(t) < 2);
    const seen: NodeLlamaCpp.Token[] = [];
    const run = async () => {
      for await (const t of asSequence(seq).evaluate(ids([1]))) seen.push(t);
    };
    await expect(run()).rejects.toBeInstanceOf(SamplingEnded);
    expect(seen).toEqual([3, 0]);
    expect(sampled).toEqual([3, 0]);
  });
});

describe('answerTokenTexts', () => {
  const dec = (tokens: readonly number[]) => tokens.map((t) => ['a', ' b', ' c', '<eos>'][t] ?? '').join('').replace('<eos>', '');

  it('what each token adds, up to the answer\'s end; joined they are the text', () => {
    expect(answerTokenTexts(dec, [0, 1, 2, 3], 'a b c', 32)).toEqual(['a', ' b', ' c']);
    expect(answerTokenTexts(dec, [0, 1, 2], 'a b', 32)).toEqual(['a', ' b']);
    expect(answerTokenTexts(dec, [3], '', 32)).toEqual([]);
  });

  it('a token the answer ends inside (a stop string cut it, its space dropped) adds the rest of the text', () => {
    expect(answerTokenTexts(dec, [0, 1, 2], 'ab', 32)).toEqual(['a', 'b']);
  });

  it('a character split across tokens: the token that completes it adds all of it', () => {
    // Token 5 and 6 are the two UTF-8 bytes of "\u00e9": 5 alone decodes to U+FFFD.
    const bytes = (tokens: readonly number[]) => {
      const out: string[] = [];
      for (let i = 0; i < tokens.length; i++) {
        if (tokens[i] === 5) out.push(tokens[i + 1] === 6 ? '\u00e9' : '\uFFFD');
        else if (tokens[i] === 6) out.push(tokens[i - 1] === 5 ? '' : '\uFFFD');
        else out.push('x');
      }
      return out.join('');
    };
    expect(answerTokenTexts(bytes, [0, 5, 6, 0], 'x\u00e9x', 32)).toEqual(['x', '', '\u00e9', 'x']);
  });
});
