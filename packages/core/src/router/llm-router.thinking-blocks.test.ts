/**
 * Anthropic's signed thinking blocks through `LLMRouter`: the result of `generate` and of `stream` keeps them as
 * `reasoningParts` (folded from the stream's parts), and a next turn that gives them back as the assistant
 * message's `reasoning` passes the local wire server's check of thinking blocks (the real API's rule).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../engines/index.js';
import type { ChatMessage, GenerateRequest } from '../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { LLMRouter } from './llm-router.js';
import type { RouterResult } from './types.js';

let server: AnthropicWireServer;
let router: LLMRouter;
beforeAll(async () => {
  server = await startAnthropicWireServer({ apiKey: 'ak', checkThinkingBlocks: true });
  router = new LLMRouter(
    { models: [{ name: 'claude', engine: 'anthropic', model: 'claude-test', baseURL: server.url, apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }], routing: { retries: { max: 0 } } },
    { env: {} },
  );
});
afterAll(async () => {
  await router.close();
  await server.close();
});

const tools = [{ name: 'f', parameters: { type: 'object' } }];
const blocks = [
  { type: 'thinking' as const, thinking: 'Call f.', signature: 'sig-a' },
  { type: 'redacted_thinking' as const, data: 'ENC' },
  { type: 'tool_use' as const, id: 'toolu_1', name: 'f', input: {} },
];
const parts = [
  { type: 'reasoning', text: 'Call f.', signature: 'sig-a' },
  { type: 'reasoning', text: '', redactedData: 'ENC' },
];
const ask = (q: string): GenerateRequest => ({ messages: [{ role: 'user', content: q }], tools, reasoning: { budgetTokens: 1024 } });
const next = (q: string, r: RouterResult): GenerateRequest => {
  const assistant: ChatMessage = { role: 'assistant', content: null, toolCalls: r.toolCalls, ...(r.reasoningParts ? { reasoning: r.reasoningParts } : {}) };
  return { ...ask(q), messages: [...ask(q).messages, assistant, { role: 'tool', toolCallId: 'toolu_1', content: 'ok' }] };
};

describe('LLMRouter: thinking blocks', () => {
  it('generate keeps reasoningParts, and the next turn is accepted', async () => {
    server.enqueue({ content: blocks }, { content: 'Done.' });
    const r = await router.generate(ask('one'));
    expect(r.reasoningParts).toEqual(parts);
    expect(r.reasoning).toBe('Call f.');
    expect((await router.generate(next('one', r))).text).toBe('Done.');
  });

  it('stream folds the parts into the same reasoningParts, and the next turn is accepted', async () => {
    server.enqueue({ content: blocks, chunks: 2 }, { content: 'Done.' });
    const s = router.stream(ask('two'));
    for await (const _ of s) void _;
    const r = await s.result;
    expect(r.reasoningParts).toEqual(parts);
    const s2 = router.stream(next('two', r));
    let text = '';
    for await (const p of s2) if (p.type === 'text-delta') text += p.delta;
    expect(text).toBe('Done.');
  });
});
