import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { writeByteChainModel } from './__fixtures__/tiny-models.js';
import { createOnnxEngine } from './create-onnx-engine.js';
import type { OnnxTextEngine } from './onnx-text-engine.js';

// Review of 2c63b3b: the logprobs tokens joined must be the text sent, also when the answer ends inside a character
// split across byte-level tokens (maxTokens reached after its first byte): the decoder's dangling U+FFFD is sent as
// text, so some listed token must carry it.

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-onnx-split-char-'));
  writeByteChainModel(dir); // 'a' -> 0xC3 -> 0xA9 -> '!' -> <|endoftext|>
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function engine(): OnnxTextEngine {
  const model = ModelConfigSchema.parse({ name: 'bytes', engine: 'onnx', path: 'bytes/model.onnx' });
  return createOnnxEngine(model, defaultEngineContext({ baseDir: dir })) as OnnxTextEngine;
}

const ask = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'a' }], ...extra });

describe('onnx logprobs of a split character', () => {
  it('an answer cut by maxTokens inside a split character: the listed tokens joined are the text sent (the dangling part goes to its token)', async () => {
    const e = engine();
    try {
      const r = await e.generate(ask({ maxTokens: 1, logprobs: {} }));
      expect(r.finishReason).toBe('length');
      expect(r.text).not.toBe('');
      expect(r.logprobs).toHaveLength(1);
      expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
      // Streamed: all logprobs parts in order are the result's.
      const parts = await collect(e.stream(ask({ maxTokens: 1, logprobs: {} })));
      const text = parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
      const tokens = parts.flatMap((p) => (p.type === 'logprobs' ? p.logprobs.map((t) => t.token) : []));
      expect(tokens.join('')).toBe(text);
    } finally {
      await e.close();
    }
  });
});
