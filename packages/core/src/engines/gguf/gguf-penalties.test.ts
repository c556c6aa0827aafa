import { beforeAll, describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { hasStoriesModel, storiesEngineForSuite, warnIfNoStoriesModel } from './stories-model.test-helpers.js';
import { ggufRepeatPenalty } from './gguf-request.js';

// frequencyPenalty and presencePenalty on the gguf engine: applied by llama.cpp's penalties sampler (node-llama-cpp
// `repeatPenalty`), so they change what the real stories260K model writes (greedy, so deterministic), negative
// values included; no warning. parallelToolCalls means nothing here (tools are refused).

warnIfNoStoriesModel('gguf penalties tests');

const story = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 60, ...extra });

/** How often the most frequent word appears. */
function topWordCount(text: string): number {
  const counts = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[a-z']+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

describe('gguf engine: sampling penalties (mapping)', () => {
  it('maps to node-llama-cpp repeatPenalty over the whole answer (at most the context), newlines included; nothing for none or zeros', () => {
    const base = { maxTokens: 200, temperature: 0, topP: undefined, topK: undefined, seed: undefined, stop: [] };
    expect(ggufRepeatPenalty(base, 512)).toBeUndefined();
    expect(ggufRepeatPenalty({ ...base, frequencyPenalty: 0, presencePenalty: 0 }, 512)).toBeUndefined();
    expect(ggufRepeatPenalty({ ...base, frequencyPenalty: -1.5 }, 512)).toEqual({ lastTokens: 200, penalizeNewLine: true, frequencyPenalty: -1.5, presencePenalty: 0 });
    expect(ggufRepeatPenalty({ ...base, presencePenalty: 0.4 }, 512)).toEqual({ lastTokens: 200, penalizeNewLine: true, frequencyPenalty: 0, presencePenalty: 0.4 });
    // The answer cannot outgrow the context (no context shift): a larger maxTokens gets a window of the context.
    expect(ggufRepeatPenalty({ ...base, maxTokens: 50_000_000, presencePenalty: 0.4 }, 512)?.lastTokens).toBe(512);
  });
});

describe.skipIf(!hasStoriesModel)('gguf engine: sampling penalties (real model)', () => {
  let baseline: string;
  const e = storiesEngineForSuite();
  beforeAll(async () => {
    baseline = (await e().generate(story())).text;
  });

  it('zero penalties write exactly what no penalties write (the call is the same)', async () => {
    expect((await e().generate(story({ frequencyPenalty: 0, presencePenalty: 0 }))).text).toBe(baseline);
  });

  it('a positive frequency or presence penalty changes the greedy story, deterministically, with no warning; the stream agrees', async () => {
    for (const extra of [{ frequencyPenalty: 2 }, { presencePenalty: 2 }] as const) {
      const r = await e().generate(story(extra));
      expect(r.text, JSON.stringify(extra)).not.toBe(baseline);
      expect(r).not.toHaveProperty('warnings');
      expect((await e().generate(story(extra))).text).toBe(r.text);
      const parts = await collect(e().stream(story(extra)));
      expect(parts.some((p) => p.type === 'warnings')).toBe(false);
      expect(parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('')).toBe(r.text);
    }
  });

  it('a negative frequency penalty is honoured too: it rewards repeats (the model loops on a word)', async () => {
    const r = await e().generate(story({ frequencyPenalty: -2 }));
    expect(r.text).not.toBe(baseline);
    expect(topWordCount(r.text)).toBeGreaterThan(topWordCount(baseline) * 2);
  });

  it('a penalty outside -2..2 is an invalid_request naming the field', async () => {
    await expect(e().generate(story({ presencePenalty: 2.5 }))).rejects.toMatchObject({ code: 'invalid_request', param: 'presencePenalty' });
    await expect(e().generate(story({ frequencyPenalty: Number.NaN }))).rejects.toMatchObject({ code: 'invalid_request', param: 'frequencyPenalty' });
  });

  it('parallelToolCalls alone (no tools) says nothing and changes nothing', async () => {
    const r = await e().generate(story({ parallelToolCalls: false }));
    expect(r.text).toBe(baseline);
    expect(r).not.toHaveProperty('warnings');
  });
});
