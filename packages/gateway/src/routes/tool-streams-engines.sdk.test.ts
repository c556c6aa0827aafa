import { startAnthropicWireServer, startGeminiWireServer, type AnthropicWireServer, type GeminiWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// Tool calls streamed end to end by the official Anthropic and openai clients' stream helpers, through a real
// gateway over node:http, to Anthropic- and Gemini-wire upstreams (local servers speaking each provider's SSE)
// answering text then two tool calls: `/v1/messages` and `/v1/chat/completions` streams, the same answers
// replayed from the exact cache, and the ledger: every row a success with the same tokens, a fresh answer's
// cost the non-streamed one's, a replay's nothing.

let anthropicUp: AnthropicWireServer;
let geminiUp: GeminiWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  [anthropicUp, geminiUp] = await Promise.all([startAnthropicWireServer({ apiKey: 'ak' }), startGeminiWireServer({ apiKey: 'gk' })]);
  const capabilities: ModelInput['capabilities'] = ['chat', 'streaming', 'tools', 'json'];
  const price = { input: 1, output: 2 };
  gw = await servedGateway({
    models: [
      { name: 'claude', engine: 'anthropic', baseURL: anthropicUp.url, model: 'claude-test', apiKey: 'ak', capabilities, price },
      { name: 'gem', engine: 'gemini', baseURL: geminiUp.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities, price },
    ],
    cache: { exact: { enabled: true } },
    upstreams: [anthropicUp, geminiUp],
  });
});
afterAll(() => gw?.close());

const tools = [
  { name: 'now', input_schema: { type: 'object' as const, properties: {} } },
  { name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } },
];
const oaTools = tools.map((t) => ({ type: 'function' as const, function: { name: t.name, parameters: t.input_schema } }));
const inputs = [{}, { city: 'Oslo' }];

/** Queues `n` upstream answers: text, then the two tool calls, in 3 stream chunks. */
function enqueue(model: string, n: number): void {
  for (let i = 0; i < n; i++) {
    if (model === 'claude') {
      anthropicUp.enqueue({ content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', name: 'now', input: {} }, { type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } }], chunks: 3, usage: { input_tokens: 10, output_tokens: 20 } });
    } else {
      geminiUp.enqueue({ parts: [{ text: 'Let me check.' }, { functionCall: { name: 'now', args: {} } }, { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }], chunks: 3 });
    }
  }
}

describe('tool calls streamed from Anthropic and Gemini upstreams to the official clients', () => {
  for (const model of ['claude', 'gem']) {
    it(`${model}: messages.stream and chat.completions.stream, fresh and replayed from the cache, ledgered alike`, async () => {
      const a = gw.anthropic();
      const o = gw.openai();
      const anthropicRequest = { model, max_tokens: 100, messages: [{ role: 'user' as const, content: `q1 ${model}` }], tools };

      enqueue(model, 2);
      const fresh = await a.messages.stream(anthropicRequest).finalMessage();
      const replayed = await a.messages.stream(anthropicRequest).finalMessage();
      const plain = await a.messages.create({ ...anthropicRequest, messages: [{ role: 'user', content: `q2 ${model}` }] });
      for (const m of [fresh, replayed, plain]) {
        expect(m.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
        expect(m.content.filter((b) => b.type === 'tool_use').map((b) => b.input)).toEqual(inputs);
        expect(m.stop_reason).toBe('tool_use');
      }
      // The replay is the same answer, call ids included.
      expect(replayed.content).toEqual(fresh.content);

      enqueue(model, 1);
      const chatRequest = { model, messages: [{ role: 'user' as const, content: `q3 ${model}` }], tools: oaTools };
      const s = o.chat.completions.stream(chatRequest);
      const done: Array<[number, string]> = [];
      s.on('tool_calls.function.arguments.done', (e) => done.push([e.index, e.arguments]));
      const c = await s.finalChatCompletion();
      expect(done).toEqual([
        [0, '{}'],
        [1, '{"city":"Oslo"}'],
      ]);
      expect(c.choices[0]!.message.content).toBe('Let me check.');
      const c2 = await o.chat.completions.stream(chatRequest).finalChatCompletion();
      expect(c2.choices[0]!.message.tool_calls).toEqual(c.choices[0]!.message.tool_calls);

      const rows = (await gw.ledger.query({ tenantId: 'acme' })).filter((r) => r.model === model);
      expect(rows).toHaveLength(5);
      const freshRows = rows.filter((r) => !r.cacheHit);
      const hitRows = rows.filter((r) => r.cacheHit);
      expect(freshRows.map((r) => r.stream).sort()).toEqual([false, true, true]);
      expect(hitRows.map((r) => r.stream)).toEqual([true, true]);
      const plainRow = rows.find((r) => !r.stream)!;
      expect(plainRow.costUsd).toBeGreaterThan(0);
      for (const r of rows) expect(r).toMatchObject({ status: 'success', inputTokens: plainRow.inputTokens, outputTokens: plainRow.outputTokens });
      for (const r of freshRows) expect(r.costUsd).toBeCloseTo(plainRow.costUsd, 12);
      for (const r of hitRows) expect(r.costUsd).toBe(0);
    });
  }
});

describe('a tool parameter named "__proto__" sent to a Gemini deployment', () => {
  it('reaches Gemini as a property of the tool, as the client declared it', async () => {
    // JSON.parse makes "__proto__" an own property, as the gateway's body parser does.
    const parameters = JSON.parse('{"type":"object","properties":{"city":{"type":"string"},"__proto__":{"type":"string","description":"the prototype id"}},"required":["city","__proto__"]}') as Record<string, unknown>;
    await gw.openai().chat.completions.create({
      model: 'gem',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters } }],
    });
    const body = JSON.parse(geminiUp.requests.at(-1)!.rawBody) as { tools: Array<{ functionDeclarations: Array<{ parameters: { properties: Record<string, unknown>; required: string[] } }> }> };
    const sent = body.tools[0]!.functionDeclarations[0]!.parameters;
    expect({ properties: Object.keys(sent.properties), required: sent.required }).toEqual({ properties: ['city', '__proto__'], required: ['city', '__proto__'] });
  });
});
