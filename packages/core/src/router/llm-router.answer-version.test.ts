/**
 * Review of 071ade2: `answerVersion` (config-version.ts) treats `contextWindow` as routing-only ("checked before any
 * cache lookup"), but the built-in onnx engine takes its context size from it (`options.contextSize ?? contextWindow`)
 * and stops generating when the sequence reaches it: two configs that differ only in `contextWindow` give different
 * answers, and the caches serve the old one's answer after the model is replaced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDecoderGraph } from '../engines/onnx/__fixtures__/onnx-graphs.js';
import { CHAIN_WORDS, nextWordMatrix, writeWordsTokenizer } from '../engines/onnx/__fixtures__/tiny-models.js';
import { LLMRouter } from './llm-router.js';

const WORDS = [...CHAIN_WORDS, 'dog', 'ran', 'away'];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-review-av-'));
  writeWordsTokenizer(dir, WORDS);
  // dog -> ran -> away -> dog ...: never ends by itself, so the context size decides the answer's length.
  writeDecoderGraph(join(dir, 'loop.onnx'), { embed: nextWordMatrix(WORDS, [['dog', 'ran'], ['ran', 'away'], ['away', 'dog']]) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = (contextWindow: number) => ({
  name: 'tiny',
  engine: 'onnx',
  path: join(dir, 'loop.onnx'),
  contextWindow,
  options: { tokenizer: join(dir, 'words', 'tokenizer.json') },
});
const ask = { messages: [{ role: 'user' as const, content: 'dog' }], temperature: 0 };

describe('answerVersion and contextWindow (onnx)', () => {
  it('a fresh call and the reference router agree: contextWindow changes the onnx answer', async () => {
    const wide = new LLMRouter({ models: [tiny(12)] });
    const narrow = new LLMRouter({ models: [tiny(8)] });
    const a = await wide.generate(ask, { cache: false });
    const b = await narrow.generate(ask, { cache: false });
    expect(a.text).not.toBe(b.text);
    await Promise.all([wide.close(), narrow.close()]);
  });

  it('after load() replaces the model with another contextWindow, the old answer is not served', async () => {
    const r = new LLMRouter({ models: [tiny(12)], cache: { exact: { enabled: true } } });
    const first = await r.generate(ask);
    expect(first.cached).toBe(false);
    r.load(tiny(8));
    const reference = new LLMRouter({ models: [tiny(8)] });
    const fresh = await reference.generate(ask, { cache: false });
    const after = await r.generate(ask);
    expect({ text: after.text, cached: after.cached }).toEqual({ text: fresh.text, cached: false });
    await Promise.all([r.close(), reference.close()]);
  });

  it("after setTenant changes an own model's contextWindow, the old answer is not served (it was not before 071ade2)", async () => {
    const r = new LLMRouter({ models: [{ name: 'shared', engine: 'mock' }], cache: { exact: { enabled: true } } });
    r.setTenant({ id: 'acme', models: [tiny(12)] });
    const first = await r.generate(ask, { tenant: 'acme', model: 'tiny' });
    expect(first.cached).toBe(false);
    r.setTenant({ id: 'acme', models: [tiny(8)] });
    const after = await r.generate(ask, { tenant: 'acme', model: 'tiny' });
    // The model as now configured says 7 words; the cache hands back the 11 the old one said.
    expect({ text: after.text, cached: after.cached }).toEqual({ text: 'ran away dog ran away dog ran', cached: false });
    await r.close();
  });
});

/**
 * `capabilities` is also left out of `answerVersion`, but the anthropic and gemini engines read it to decide whether a
 * request's `reasoning` is sent to the provider at all (`reasoningEnabled`): `reasoning` is a hint, not an implied
 * capability, so no fitness check before the lookup catches it.
 */
describe('answerVersion and capabilities (anthropic reasoning)', () => {
  it("after setTenant lists 'reasoning' in an own model's capabilities, the answer given without thinking is not served", async () => {
    const { startAnthropicWireServer } = await import('../test/anthropic-wire-server.js');
    const server = await startAnthropicWireServer({
      apiKey: 'ak',
      // As the provider: thinking only when the request asks for it.
      handler: (req) =>
        req.body?.['thinking'] !== undefined
          ? { content: [{ type: 'thinking', thinking: 'Let me think.', signature: 'sig' }, { type: 'text', text: 'a considered answer' }] }
          : { content: 'a quick answer' },
    });
    const claude = (capabilities: Array<'chat' | 'reasoning'>) => ({ name: 'claude', engine: 'anthropic', model: 'claude-test', baseURL: server.url, apiKey: 'ak', capabilities });
    const r = new LLMRouter({ models: [{ name: 'shared', engine: 'mock' }], routing: { retries: { max: 0 } }, cache: { exact: { enabled: true } } }, { env: {} });
    const q = { messages: [{ role: 'user' as const, content: 'Is 1021 prime?' }], reasoning: { budgetTokens: 1024 } };
    try {
      r.setTenant({ id: 'acme', models: [claude(['chat'])] });
      expect((await r.generate(q, { tenant: 'acme', model: 'claude' })).text).toBe('a quick answer');
      r.setTenant({ id: 'acme', models: [claude(['chat', 'reasoning'])] });
      // Without the cache, the model as now configured thinks:
      expect((await r.generate(q, { tenant: 'acme', model: 'claude', cache: false })).text).toBe('a considered answer');
      const after = await r.generate(q, { tenant: 'acme', model: 'claude' });
      expect({ text: after.text, cached: after.cached }).toEqual({ text: 'a considered answer', cached: false });
    } finally {
      await r.close();
      await server.close();
    }
  });
});
