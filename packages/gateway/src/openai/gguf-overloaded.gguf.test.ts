/**
 * A gguf call refused by the engine's concurrency cap (`options.maxConcurrency` running, `options.maxQueued`
 * waiting) reaches the client as a 503 `overloaded` that tells it when to come back (`Retry-After: 1`), as the
 * gateway's other 503s/429s do. Official openai SDK on a served gateway, real stories260K.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const modelFile = join(process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared'), 'models', 'stories260K.gguf');
const hasModel = existsSync(modelFile);
if (!hasModel) console.warn(`[gguf overloaded] ${modelFile} not found: skipped (set LLMRR_SHARED_DIR)`);

describe.skipIf(!hasModel)('gguf concurrency cap through the gateway', () => {
  let gw: SdkGateway;
  beforeAll(async () => {
    gw = await servedGateway({
      models: [{ name: 'stories', engine: 'gguf', path: modelFile, capabilities: ['chat', 'streaming'], options: { threads: 1, maxConcurrency: 1, maxQueued: 0 } }],
      routing: { retries: { max: 0 } },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a call refused as overloaded is a 503 with Retry-After: 1', async () => {
    const client = gw.openai();
    const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
    await client.chat.completions.create({ model: 'stories', messages, max_tokens: 2 }); // loaded
    const settled = await Promise.allSettled(Array.from({ length: 4 }, () => client.chat.completions.create({ model: 'stories', messages, max_tokens: 60 })));
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(refused.length).toBeGreaterThan(0);
    const e = refused[0] as InstanceType<typeof OpenAI.APIError>;
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect({ status: e.status, code: (e.error as { code?: string }).code }).toEqual({ status: 503, code: 'overloaded' });
    expect(e.headers?.get('retry-after') ?? 'absent').toBe('1');
  }, 60_000);
});
