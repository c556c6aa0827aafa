import { describe, expect, it, vi } from 'vitest';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { hasStoriesModel, storiesEngine, storiesEngineForSuite, warnIfNoStoriesModel } from './stories-model.test-helpers.js';

// Log probabilities from the real stories260K model (a second, teacher-forced pass over the answer). At temperature 0
// the sampler takes the most likely token, so each chosen token must be its position's first top candidate: that
// holds only when every position's probabilities are read at the right place.

warnIfNoStoriesModel('gguf logprobs tests');

// The engine's token watch, passed through as it is; a test can be told of each token the sampler chose (`sampled`).
const sampled = vi.hoisted(() => ({ onToken: undefined as (() => void) | undefined }));
vi.mock('./gguf-sampled-tokens.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./gguf-sampled-tokens.js')>();
  const watchSampledTokens: typeof real.watchSampledTokens = (sequence, onToken) =>
    real.watchSampledTokens(sequence, (token) => {
      sampled.onToken?.();
      return onToken(token);
    });
  return { ...real, watchSampledTokens };
});

const base: GenerateRequest = { messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 16, temperature: 0 };

// The real model on one thread, CPU-bound (the first test loads it): 1-13 s a test alone, several times that on a
// loaded machine. The bound only guards against a hang.
describe.skipIf(!hasStoriesModel)('gguf engine: logprobs', { timeout: 90_000 }, () => {
  const e = storiesEngineForSuite();

  it('greedy: one per answer token, joined they are the text, each the first of its top 3 (sorted, all <= 0)', async () => {
    const r = await e().generate({ ...base, logprobs: { topLogprobs: 3 } });
    expect(r.warnings).toBeUndefined();
    const lps = r.logprobs!;
    expect(lps.length).toBeGreaterThan(3);
    expect(lps.length).toBeLessThanOrEqual(16);
    expect(lps.map((t) => t.token).join('')).toBe(r.text);
    for (const t of lps) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.topLogprobs).toHaveLength(3);
      expect(t.topLogprobs![0]!.logprob).toBeCloseTo(t.logprob, 9);
      const top = t.topLogprobs!.map((c) => c.logprob);
      expect([...top].sort((a, b) => b - a)).toEqual(top);
      expect(top.reduce((s, x) => s + Math.exp(x), 0)).toBeLessThanOrEqual(1 + 1e-6);
    }
    // The first token after "Once upon a time" is "," with p = 0.9687 (node-llama-cpp controlledEvaluate, measured once).
    expect(lps[0]!.token).toBe(',');
    expect(Math.exp(lps[0]!.logprob)).toBeCloseTo(0.9687, 3);
    expect((await e().generate(base)).logprobs).toBeUndefined();
  });

  it('hot sampling: the chosen tokens are not always the most likely, and their probabilities are the model\'s (below the top one\'s)', async () => {
    const r = await e().generate({ ...base, maxTokens: 60, temperature: 1.5, seed: 7, logprobs: { topLogprobs: 1 } });
    expect(r.logprobs!.length).toBeGreaterThan(32); // longer than the decoding window of gguf-logprobs.ts
    const lps = r.logprobs!;
    expect(lps.map((t) => t.token).join('')).toBe(r.text);
    for (const t of lps) expect(t.logprob).toBeLessThanOrEqual(t.topLogprobs![0]!.logprob + 1e-9);
    // Some sampled token is not its position's most likely one: a lower log probability than the top candidate's.
    expect(lps.some((t) => t.logprob < t.topLogprobs![0]!.logprob - 1e-6 && t.token !== t.topLogprobs![0]!.token)).toBe(true);
  });

  it('stream: the text whole, then one logprobs part of its tokens, then finish; the same as generate', async () => {
    const request = { ...base, logprobs: { topLogprobs: 2 } };
    const parts = await collect(e().stream(request));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'logprobs', 'finish']);
    const whole = await e().generate(request);
    expect(parts[1]).toEqual({ type: 'text-delta', delta: whole.text });
    expect(parts[2]).toEqual({ type: 'logprobs', logprobs: whole.logprobs });
    // Without logprobs the text streams as it comes, in several deltas.
    const plain = await collect(e().stream(base));
    expect(plain.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(1);
  });

  it('a stop string: the tokens are those of the text that was kept', async () => {
    const full = (await e().generate({ ...base, maxTokens: 24 })).text;
    const stop = full.slice(full.indexOf('girl'), full.indexOf('girl') + 4);
    expect(stop).toBe('girl');
    const r = await e().generate({ ...base, maxTokens: 24, stop: [stop], logprobs: {} });
    // The kept text is all the text before the stop string (the space " girl" starts with included).
    expect(r.text).toBe(full.slice(0, full.indexOf('girl')));
    expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
  });
  it('greedy: the top candidate that is the chosen token has the chosen token\'s text (" there", not "there")', async () => {
    // At temperature 0 the chosen token is each position's most likely one, so topLogprobs[0] is the same token
    // (same log probability): it reads the same, decoded after the tokens before it (SentencePiece's leading space).
    const r = await e().generate({ ...base, maxTokens: 12, logprobs: { topLogprobs: 2 } });
    const lps = r.logprobs!;
    expect(lps.map((t) => t.token).join('')).toBe(r.text);
    for (const t of lps) expect(t.topLogprobs![0]!.logprob).toBeCloseTo(t.logprob, 9);
    expect(lps.map((t) => t.topLogprobs![0]!.token)).toEqual(lps.map((t) => t.token));
  });

  it('the answer\'s first token keeps its leading space, chosen and as a top candidate (" time" after "Once upon a")', async () => {
    const r = await e().generate({ ...base, messages: [{ role: 'user', content: 'Once upon a' }], maxTokens: 3, logprobs: { topLogprobs: 2 } });
    expect(r.text.startsWith(' time')).toBe(true);
    expect(r.logprobs![0]!.token).toBe(' time');
    expect(r.logprobs![0]!.topLogprobs![0]!.token).toBe(' time');
    expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
  });

  it('greedy answer cut by a stop string inside a token: the logprobs are of the tokens the model produced (each its position\'s most likely)', async () => {
    // Without a stop the model's greedy answer starts ",", " there"; with stop "ere" the kept text is ", th": the
    // listed tokens are the sampled ones (" there" listed as " th"), not a re-tokenization of the kept text.
    const r = await e().generate({ ...base, maxTokens: 12, stop: ['ere'], logprobs: { topLogprobs: 1 } });
    expect(r.finishReason).toBe('stop');
    const lps = r.logprobs!;
    expect(lps.length).toBeLessThanOrEqual(r.usage.outputTokens);
    for (const t of lps) expect(t.logprob).toBeCloseTo(t.topLogprobs![0]!.logprob, 6);
    expect(lps.map((t) => t.token).join('')).toBe(r.text);
  });

  it('a stream aborted while its logprobs stream holds the text: no text, no logprobs, then usage and the abort', async () => {
    const long = storiesEngine({ contextSize: 2048 });
    try {
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      // The abort lands while the text is generated and held: after the sampler chose its 20th token (of up to 2000),
      // from outside the sampling, as a timer's would (not after a wall-clock delay, which a loaded machine may spend
      // before the first token).
      let tokens = 0;
      sampled.onToken = () => {
        if (++tokens === 20) setImmediate(() => controller.abort());
      };
      const request: GenerateRequest = { ...base, maxTokens: 2000, logprobs: { topLogprobs: 2 } };
      try {
        for await (const part of long.stream(request, { signal: controller.signal })) parts.push(part);
      } finally {
        sampled.onToken = undefined;
      }
      expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'usage', 'error']);
      const usage = parts[1]!.type === 'usage' ? parts[1]!.usage : undefined;
      expect(usage!.outputTokens).toBeGreaterThanOrEqual(20);
      expect(usage!.outputTokens).toBeLessThan(2000);
      expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    } finally {
      await long.close();
    }
  });
  it('measures what the second pass costs (200 greedy tokens, with and without logprobs, top 5, fastest of 3)', async () => {
    const long = storiesEngine({ contextSize: 1024 });
    try {
      const request: GenerateRequest = { ...base, maxTokens: 200 };
      await long.generate({ ...request, maxTokens: 2 }); // load and warm
      const time = async (r: GenerateRequest) => {
        const start = performance.now();
        const result = await long.generate(r);
        return { ms: performance.now() - start, result };
      };
      // The fastest of 3 runs each, alternated (the machine is shared).
      let plain = await time(request);
      let withLogprobs = await time({ ...request, logprobs: { topLogprobs: 5 } });
      for (let i = 0; i < 2; i++) {
        const p = await time(request);
        const w = await time({ ...request, logprobs: { topLogprobs: 5 } });
        if (p.ms < plain.ms) plain = p;
        if (w.ms < withLogprobs.ms) withLogprobs = w;
      }
      expect(withLogprobs.result.text).toBe(plain.result.text);
      expect(withLogprobs.result.logprobs!.map((t) => t.token).join('')).toBe(plain.result.text);
      const n = withLogprobs.result.logprobs!.length;
      console.info(
        `[gguf logprobs] stories260K, threads 1: ${plain.result.usage.outputTokens} tokens in ${plain.ms.toFixed(0)} ms; ` +
          `with logprobs (top 5, ${n} tokens): ${withLogprobs.ms.toFixed(0)} ms (+${((withLogprobs.ms - plain.ms) / n).toFixed(2)} ms per token)`,
      );
    } finally {
      await long.close();
    }
  });
});
