import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { expectNoWarnings, expectNotSentInGenerateAndStream } from '../../test/call-warnings.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { writeChainModel } from './__fixtures__/tiny-models.js';
import { createOnnxEngine } from './create-onnx-engine.js';
import { OnnxTextEngine } from './onnx-text-engine.js';

// What the onnx engine leaves out of a request it accepts is said, not done in silence: `warnings` on the result,
// and one `warnings` part first in the stream. Against a real ONNX graph run by onnxruntime-node (a word chain:
// the -> cat -> sat -> on -> a -> mat -> </s>).

let dir: string;
let e: OnnxTextEngine;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-onnx-warnings-'));
  writeChainModel(dir); // the -> cat -> sat -> on -> a -> mat -> </s>
  const model = ModelConfigSchema.parse({ name: 'tiny', engine: 'onnx', path: 'chain.onnx', options: { tokenizer: 'words/tokenizer.json' } });
  e = createOnnxEngine(model, defaultEngineContext({ baseDir: dir })) as OnnxTextEngine;
});
afterAll(async () => {
  await e?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ASKED: GenerateRequest = {
  messages: [{ role: 'user', content: 'the', name: 'ann' }],
  user: 'u-1',
  promptCacheKey: 'conv-1',
  reasoning: { budgetTokens: 1024 },
};

describe('onnx engine: warnings', () => {
  it('user message name, user, promptCacheKey and thinking: not used, and said so, in generate and stream', async () => {
    const r = await expectNotSentInGenerateAndStream(e, ASKED, ['messages.0.name', 'user', 'promptCacheKey', 'reasoning']);
    expect(r.text.trim()).toBe('cat sat on a mat');
  });

  it('what it does (sampling, seed, stop, maxTokens, thinking off, cache marks): no warnings', async () => {
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'the', cacheControl: { type: 'ephemeral' } }] }],
      maxTokens: 4,
      temperature: 0,
      topP: 1,
      seed: 2,
      stop: ['mat'],
      reasoning: { effort: 'none' },
      responseFormat: { type: 'text' },
    };
    await expectNoWarnings(e, request);
  });

  it('what it refuses (JSON mode) is an error, with no warnings part before it', async () => {
    const parts = await collect(e.stream({ ...ASKED, responseFormat: { type: 'json_object' } }));
    expect(parts.map((p) => p.type)).toEqual(['error']);
  });
});

describe('onnx engine: sampling penalties and parallelToolCalls', () => {
  it('non-zero penalties are not used (its sampler has none), and said so in generate and stream; the answer is unchanged', async () => {
    const request: GenerateRequest = { messages: [{ role: 'user', content: 'the' }], frequencyPenalty: 1.2, presencePenalty: -0.5 };
    const r = await e.generate(request);
    expect(r.text.trim()).toBe('cat sat on a mat');
    expect(r.warnings).toEqual([
      { code: 'setting_not_sent', field: 'frequencyPenalty', message: "frequencyPenalty was not used: the onnx engine's sampler has no repetition penalties." },
      { code: 'setting_not_sent', field: 'presencePenalty', message: "presencePenalty was not used: the onnx engine's sampler has no repetition penalties." },
    ]);
    const parts = await collect(e.stream(request));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: r.warnings });
    expect(parts.at(-1)?.type).toBe('finish');
  });

  it('zero penalties (the default) and parallelToolCalls without tools lose nothing: no warning', async () => {
    const request: GenerateRequest = { messages: [{ role: 'user', content: 'the' }], frequencyPenalty: 0, presencePenalty: 0, parallelToolCalls: false };
    await expectNoWarnings(e, request);
  });
});
