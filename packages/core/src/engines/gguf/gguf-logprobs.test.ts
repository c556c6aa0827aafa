import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { GgufEngine, createGgufEngine } from './gguf-engine.js';

// Log probabilities from the real stories260K model (a second, teacher-forced pass over the answer). At temperature 0
// the sampler takes the most likely token, so each chosen token must be its position's first top candidate: that
// holds only when every position's probabilities are read at the right place.

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const sharedDir = process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared');
const modelsDir = join(sharedDir, 'models');
const hasModel = existsSync(join(modelsDir, 'stories260K.gguf'));
if (!hasModel) console.warn(`[gguf logprobs tests] ${join(modelsDir, 'stories260K.gguf')} not found: skipped (set LLMRR_SHARED_DIR)`);

const base: GenerateRequest = { messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 16, temperature: 0 };

describe.skipIf(!hasModel)('gguf engine: logprobs', () => {
  let e: GgufEngine;
  beforeAll(() => {
    e = createGgufEngine(ModelConfigSchema.parse({ name: 'stories', engine: 'gguf', path: 'stories260K.gguf', options: { threads: 1 } }), defaultEngineContext({ baseDir: modelsDir }));
  });
  afterAll(async () => {
    await e?.close();
  });

  it('greedy: one per answer token, joined they are the text, each the first of its top 3 (sorted, all <= 0)', async () => {
    const r = await e.generate({ ...base, logprobs: { topLogprobs: 3 } });
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
    expect((await e.generate(base)).logprobs).toBeUndefined();
  });

  it('hot sampling: the chosen tokens are not always the most likely, and their probabilities are the model\'s (below the top one\'s)', async () => {
    const r = await e.generate({ ...base, maxTokens: 60, temperature: 1.5, seed: 7, logprobs: { topLogprobs: 1 } });
    expect(r.logprobs!.length).toBeGreaterThan(32); // longer than the decoding window of gguf-logprobs.ts
    const lps = r.logprobs!;
    expect(lps.map((t) => t.token).join('')).toBe(r.text);
    for (const t of lps) expect(t.logprob).toBeLessThanOrEqual(t.topLogprobs![0]!.logprob + 1e-9);
    expect(lps.some((t) => t.token !== t.topLogprobs![0]!.token)).toBe(true);
  });

  it('stream: the text whole, then one logprobs part of its tokens, then finish; the same as generate', async () => {
    const request = { ...base, logprobs: { topLogprobs: 2 } };
    const parts = await collect(e.stream(request));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'logprobs', 'finish']);
    const whole = await e.generate(request);
    expect(parts[1]).toEqual({ type: 'text-delta', delta: whole.text });
    expect(parts[2]).toEqual({ type: 'logprobs', logprobs: whole.logprobs });
    // Without logprobs the text streams as it comes, in several deltas.
    const plain = await collect(e.stream(base));
    expect(plain.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(1);
  });

  it('a stop string: the tokens are those of the text that was kept', async () => {
    const full = (await e.generate({ ...base, maxTokens: 24 })).text;
    const stop = full.slice(full.indexOf('girl'), full.indexOf('girl') + 4);
    expect(stop).toBe('girl');
    const r = await e.generate({ ...base, maxTokens: 24, stop: [stop], logprobs: {} });
    // The kept text ends before the stop string (node-llama-cpp also drops the space the stop's token starts with).
    expect(full.startsWith(r.text)).toBe(true);
    expect(r.text.length).toBeLessThan(full.indexOf('girl'));
    expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
  });
});
