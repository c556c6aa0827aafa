import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { writeChainModel } from './__fixtures__/tiny-models.js';
import { createOnnxEngine } from './create-onnx-engine.js';
import type { OnnxTextEngine } from './onnx-text-engine.js';

// The logprobs are of the answer's text tokens: joined, their `token`s are the text, and all `logprobs` parts of a
// stream, in order, are the result's `logprobs` (a stop sequence's tokens are not among them).

let dir: string;

function engine(): OnnxTextEngine {
  const model = ModelConfigSchema.parse({ name: 'tiny', engine: 'onnx', path: 'chain.onnx', options: { tokenizer: 'words/tokenizer.json' } });
  return createOnnxEngine(model, defaultEngineContext({ baseDir: dir })) as OnnxTextEngine;
}

const prompt = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: text }], ...extra });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-onnx-logprobs-'));
  writeChainModel(dir); // the -> cat -> sat -> on -> a -> mat -> </s>
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('onnx logprobs: the tokens of the text', () => {
  it('a stop sequence that ended the answer: its tokens are not listed (the entries are the answer text\'s tokens only)', async () => {
    const e = engine();
    try {
      const r = await e.generate(prompt('the', { stop: [' on'], logprobs: {} }));
      expect(r.text).toBe('cat sat');
      // "on" is not in the answer: it must not be among the answer's tokens (the GGUF engine leaves it out).
      expect(r.logprobs).toHaveLength(2);
      const parts = await collect(e.stream(prompt('the', { stop: [' on'], logprobs: {} })));
      const streamed = parts.flatMap((p) => (p.type === 'logprobs' ? p.logprobs : []));
      expect(streamed).toHaveLength(2);
    } finally {
      await e.close();
    }
  });

  it('the logprobs tokens joined are the answer text (each token is what it adds to the decoded text)', async () => {
    const e = engine();
    try {
      const r = await e.generate(prompt('the', { logprobs: {} }));
      expect(r.text).toBe('cat sat on a mat');
      // Not "catsatonamat" (each id decoded alone, without the spaces the decoder puts between words).
      expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
    } finally {
      await e.close();
    }
  });
});
