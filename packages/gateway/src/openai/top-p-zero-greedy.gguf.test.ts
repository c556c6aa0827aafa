import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const modelFile = join(process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared'), 'models', 'stories260K.gguf');
const hasModel = existsSync(modelFile);
if (!hasModel) console.warn(`[gguf top_p 0] ${modelFile} not found: skipped (set LLMRR_SHARED_DIR)`);

// OpenAI's chat completions take `top_p` from 0 to 1 (clients send `top_p: 0` for greedy decoding), and a mock or
// provider deployment answers it. A local (gguf/onnx) deployment refused it with a 400 `topP: must be in (0, 1]`
// (core's resolveLocalSampling), so the same request failed on local models only. top_p 0 keeps only the most
// likely token: greedy, the same text as temperature 0.
describe.skipIf(!hasModel)('top_p 0 on a gguf deployment', () => {
  let gw: SdkGateway;
  beforeAll(async () => {
    gw = await servedGateway({ models: [{ name: 'stories', engine: 'gguf', path: modelFile, capabilities: ['chat', 'streaming'], options: { threads: 1 } }] });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('answers a request with top_p 0 (OpenAI range [0, 1])', async () => {
    const client = gw.openai();
    const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
    const greedy = await client.chat.completions.create({ model: 'stories', messages, max_tokens: 12, temperature: 0 });
    const topP0 = await client.chat.completions.create({ model: 'stories', messages, max_tokens: 12, temperature: 1, top_p: 0 });
    expect(topP0.choices[0]?.message.content).toBe(greedy.choices[0]?.message.content);
  }, 60_000);
});
