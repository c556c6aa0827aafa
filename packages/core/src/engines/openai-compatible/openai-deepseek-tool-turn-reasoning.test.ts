import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { ChatMessage, GenerateRequest, ToolDefinition } from '../../spec/index.js';
import { deepseekReasoningRefusal } from '../../test/deepseek-thinking.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

// DeepSeek's thinking mode (on by default for deepseek-v4-*, always for deepseek-reasoner) answers with
// `reasoning_content` beside `content` / `tool_calls`, and its Thinking Mode guide
// (https://api-docs.deepseek.com/guides/thinking_mode) says: between two user messages, if the model performed a
// tool call, the intermediate assistant's `reasoning_content` must be passed back to the API; otherwise it
// answers 400 "The reasoning_content in the thinking mode must be passed back to the API." The local server below
// speaks DeepSeek's wire format and applies that rule to every assistant turn of such a span (the text answer after
// the tool results too: MoonshotAI/kimi-cli#2141). The `deepseek` preset sends an assistant turn's reasoning parts as
// `reasoning_content` on each turn of a tool loop, so an agent loop takes its second step (and the user's next turn
// is accepted: cross-provider-tool-turns.test.ts); other presets (OpenAI refuses unknown message fields) send it
// only with `options.reasoningContent`.


/** DeepSeek's check (every assistant turn between two user messages with tool calls between them carries its reasoning_content), then a tool loop's answers. */
function deepseek(request: RecordedRequest): OpenAIWireScript {
  const refused = deepseekReasoningRefusal(request);
  if (refused) return refused;
  const messages = (request.body as { messages?: Array<Record<string, unknown>> }).messages ?? [];
  const answered = messages.some((m) => m.role === 'tool');
  return answered
    ? { reasoning: 'The tool says sunny.', text: 'It is sunny in Paris.' }
    : { reasoning: 'I need the weather tool.', text: '', toolCalls: [{ id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' }] };
}

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: deepseek });
});
afterAll(() => server.close());

const TOOLS: ToolDefinition[] = [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

function engine(): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(
    ModelConfigSchema.parse({ name: 'ds', engine: 'openai-compatible', preset: 'deepseek', model: 'deepseek-v4-pro', baseURL: server.baseURL, apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }),
    defaultEngineContext({ env: {} }),
  );
}

describe('openai-compatible engine, deepseek preset: a tool-call turn goes back with its reasoning', () => {
  it('the second step of a tool loop (the assistant turn given back with its reasoning) is accepted', async () => {
    const e = engine();
    const user: ChatMessage = { role: 'user', content: 'Weather in Paris?' };
    const first = await e.generate({ messages: [user], tools: TOOLS });
    expect(first.toolCalls).toEqual([{ id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' }]);
    expect(first.reasoning).toBe('I need the weather tool.');

    // The turn as the spec takes it back: its tool calls and its reasoning (ReasoningPart), then the tool's result.
    const assistant: ChatMessage = { role: 'assistant', content: null, toolCalls: first.toolCalls, reasoning: first.reasoningParts ?? [{ type: 'reasoning', text: first.reasoning! }] };
    const second: GenerateRequest = { messages: [user, assistant, { role: 'tool', toolCallId: 'call_w1', content: '{"sky":"sunny"}' }], tools: TOOLS };
    const sent = server.requests.length;
    const answer = await e.generate(second).catch((err: unknown) => err);
    const body = server.requests[sent]!.body as { messages: Array<Record<string, unknown>> };
    // What came back, then what went out for the assistant turn.
    expect(answer).toMatchObject({ text: 'It is sunny in Paris.' });
    expect(body.messages[1]).toMatchObject({ role: 'assistant', reasoning_content: 'I need the weather tool.' });
  });

  it('other presets do not send reasoning_content unless options.reasoningContent says so', async () => {
    const turn: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' }], reasoning: [{ type: 'reasoning', text: 'I need the weather tool.' }] },
        { role: 'tool', toolCallId: 'call_w1', content: '{"sky":"sunny"}' },
      ],
      tools: TOOLS,
    };
    const on = (options?: Record<string, unknown>) =>
      new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'v', engine: 'openai-compatible', preset: 'vllm', model: 'm', baseURL: server.baseURL, ...(options ? { options } : {}) }), defaultEngineContext({ env: {} }));
    const sentTurn = () => (server.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages[1]!;
    await on().generate(turn).catch(() => undefined);
    expect(sentTurn()).not.toHaveProperty('reasoning_content');
    await on({ reasoningContent: true }).generate(turn);
    expect(sentTurn()).toMatchObject({ role: 'assistant', reasoning_content: 'I need the weather tool.' });
  });
});
