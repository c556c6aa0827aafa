import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGgufEngine, defaultEngineContext, ModelConfigSchema, type GenerateRequest } from '@llmrr/core';
import { afterAll, describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { messagesToGenerateRequest } from './to-generate-request.js';

// A /v1/messages user turn's text blocks reach a local model as its text parts joined with "\n" (core's
// `localMessageText`, as vLLM joins them), whether the front joins them (no mark, or one on the last block) or
// keeps them as parts (a mark on an earlier block): a cache mark is a billing hint that must not change what a
// provider that ignores marks receives (marks-keep-text.sdk.test.ts). The front joined with "" before, so the
// same blocks gave the model "Once upona time" without a mark and "Once upon\na time" with one.

// The shared folder sits beside the repository root (../shared), unless LLMRR_SHARED_DIR says otherwise.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const modelsDir = join(process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared'), 'models');
const hasModel = existsSync(join(modelsDir, 'stories260K.gguf'));
if (!hasModel) console.warn(`[gguf tests] ${join(modelsDir, 'stories260K.gguf')} not found: skipped (set LLMRR_SHARED_DIR to the shared folder)`);

const convert = (content: unknown[]): GenerateRequest =>
  messagesToGenerateRequest(validateBody(AnthropicMessagesRequestSchema, { model: 'stories', max_tokens: 16, messages: [{ role: 'user', content }] }));

describe.skipIf(!hasModel)('a user turn\'s text blocks on a gguf deployment, marked or not', () => {
  const engine = createGgufEngine(
    ModelConfigSchema.parse({ name: 'stories', engine: 'gguf', path: 'stories260K.gguf', options: { threads: 1 } }),
    defaultEngineContext({ baseDir: modelsDir }),
  );
  afterAll(() => engine.close());

  it('/v1/messages: the same two text blocks, with and without a mark on the first, give the model the same prompt: the blocks joined with "\\n"', async () => {
    const plain = convert([{ type: 'text', text: 'Once upon' }, { type: 'text', text: 'a time' }]);
    const marked = convert([{ type: 'text', text: 'Once upon', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'a time' }]);
    const lastMarked = convert([{ type: 'text', text: 'Once upon' }, { type: 'text', text: 'a time', cache_control: { type: 'ephemeral' } }]);
    const newline = await engine.countTokens({ messages: [{ role: 'user', content: 'Once upon\na time' }] });
    expect(newline).not.toBe(await engine.countTokens({ messages: [{ role: 'user', content: 'Once upona time' }] }));
    expect(await engine.countTokens(plain)).toBe(newline);
    expect(await engine.countTokens(marked)).toBe(newline);
    expect(await engine.countTokens(lastMarked)).toBe(newline);
    const a = await engine.generate({ ...plain, maxTokens: 6 });
    const b = await engine.generate({ ...marked, maxTokens: 6 });
    expect(b.text).toBe(a.text);
  });
});
