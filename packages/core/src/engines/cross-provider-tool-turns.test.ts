import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../config/schema.js';
import type { ChatMessage, GenerateRequest, ToolDefinition } from '../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireReply, type AnthropicWireRequest, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { startGeminiWireServer, type GeminiWireReply, type GeminiWireRequest, type GeminiWireServer } from '../test/gemini-wire-server.js';
import { deepseekReasoningRefusal } from '../test/deepseek-thinking.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '../test/openai-wire-server.js';
import { createAnthropicEngine } from './anthropic/index.js';
import { createGeminiEngine } from './gemini/index.js';
import { OpenAICompatibleEngine } from './openai-compatible/index.js';
import { defaultEngineContext } from './types.js';

// A tool loop whose earlier assistant turn another provider answered, sent on (a fallback, a switched model) to
// DeepSeek, Anthropic or Gemini. Each local server below applies the rule of the real API that such a turn can
// break; where the shared wire server does not, the check is written here:
// - DeepSeek (thinking mode): when tool calls happen between two user messages (or after the last one), every
//   assistant turn between them, the text answer after the tool results included, carries a `reasoning_content`
//   string, in every later request (https://api-docs.deepseek.com/guides/thinking_mode; MoonshotAI/kimi-cli#2141;
//   DeepSeek itself sends "" for a turn it did not reason on, and takes "" back: Oaklight/llm-rosetta#356), else 400
//   "The reasoning_content in the thinking mode must be passed back to the API.";
// - Anthropic: `tool_use.id` and `tool_result.tool_use_id` match ^[a-zA-Z0-9_-]+$, else 400 "messages.N.content.M.
//   tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'" (Kimi's `functions.weather:0`, Ollama's and
//   Codex's `call_1|fc_2` ids replayed to Claude hit it); and (the shared server's `checkThinkingBlocks`) with
//   thinking on, the last assistant tool turn starts with a thinking block Anthropic signed;
// - Gemini: a functionResponse names its function (a non-empty `name`), and no thought signature Gemini did not give.

const TOOLS: ToolDefinition[] = [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
const user: ChatMessage = { role: 'user', content: 'Weather in Paris?' };
const result = (toolCallId: string): ChatMessage => ({ role: 'tool', toolCallId, content: '{"sky":"sunny"}' });
const call = (id: string) => ({ id, name: 'weather', arguments: '{"city":"Paris"}' });

/** A DeepSeek tool turn: reasoning_content (no signature) and DeepSeek's call id. */
const deepseekTurn: ChatMessage = { role: 'assistant', content: null, toolCalls: [call('call_00_8PbHcSBxGUeZ5Fi3C')], reasoning: [{ type: 'reasoning', text: 'I need the weather tool.' }] };

type Messages = Array<Record<string, unknown> & { role: string; content?: unknown }>;

function deepseek(request: RecordedRequest): OpenAIWireScript {
  return deepseekReasoningRefusal(request) ?? { reasoning: 'The tool says sunny.', text: 'It is sunny in Paris.' };
}

const ANTHROPIC_ID = /^[a-zA-Z0-9_-]+$/;
function anthropic(request: AnthropicWireRequest): AnthropicWireReply {
  const messages = (request.body as { messages: Messages }).messages;
  for (const [i, m] of messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const [j, block] of (m.content as Array<Record<string, unknown>>).entries()) {
      const field = block.type === 'tool_use' ? 'id' : block.type === 'tool_result' ? 'tool_use_id' : undefined;
      if (field && !ANTHROPIC_ID.test(String(block[field]))) {
        return { error: { status: 400, type: 'invalid_request_error', message: `messages.${i}.content.${j}.${block.type}.${field}: String should match pattern '^[a-zA-Z0-9_-]+$'` } };
      }
    }
  }
  return { content: 'It is sunny in Paris.' };
}

function gemini(request: GeminiWireRequest): GeminiWireReply {
  const contents = (request.body as { contents: Array<{ parts: Array<Record<string, unknown>> }> }).contents;
  for (const [i, c] of contents.entries()) {
    for (const [j, part] of c.parts.entries()) {
      const response = part.functionResponse as { name?: unknown } | undefined;
      if (response && (typeof response.name !== 'string' || response.name === '')) return { error: { status: 400, message: `* GenerateContentRequest.contents[${i}].parts[${j}].function_response.name: Name cannot be empty.` } };
      if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== 'skip_thought_signature_validator') return { error: { status: 400, message: 'Corrupted thought signature.' } };
    }
  }
  return { parts: 'It is sunny in Paris.' };
}

let ds: OpenAIWireServer;
let claude: AnthropicWireServer;
let gem: GeminiWireServer;
beforeAll(async () => {
  ds = await startOpenAIWireServer({ script: deepseek });
  claude = await startAnthropicWireServer({ apiKey: 'sk-ant-test', handler: anthropic, checkThinkingBlocks: true });
  gem = await startGeminiWireServer({ apiKey: 'gm-test', handler: gemini });
});
afterAll(async () => {
  await ds?.close();
  await claude?.close();
  await gem?.close();
});

const ctx = () => defaultEngineContext({ env: {} });
const deepseekEngine = () =>
  new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'ds', preset: 'deepseek', model: 'deepseek-v4-pro', baseURL: ds.baseURL, apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }), ctx());
const claudeEngine = (extra: Partial<ModelConfigInput> = {}) =>
  createAnthropicEngine(ModelConfigSchema.parse({ name: 'claude', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: claude.url, apiKey: 'sk-ant-test', ...extra }), ctx());
const geminiEngine = (model: string) => createGeminiEngine(ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model, baseURL: gem.url, apiKey: 'gm-test' }), ctx());

const loop = (assistant: ChatMessage, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [user, assistant, ...(assistant.role === 'assistant' ? (assistant.toolCalls ?? []).map((c) => result(c.id)) : [])],
  tools: TOOLS,
  ...extra,
});

describe('a tool turn another provider answered, sent to DeepSeek (thinking mode)', () => {
  const sentTurn = () => (ds.requests.at(-1)!.body as { messages: Messages }).messages[1]!;

  it('a Claude turn (signed thinking): its thinking text goes back as reasoning_content', async () => {
    const turn: ChatMessage = { role: 'assistant', content: null, toolCalls: [call('toolu_01A09q90qw90lq917835lq9')], reasoning: [{ type: 'reasoning', text: 'Let me check.', signature: 'sig-claude' }] };
    await expect(deepseekEngine().generate(loop(turn))).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    expect(sentTurn()).toMatchObject({ reasoning_content: 'Let me check.' });
  });

  it.each<[string, ChatMessage]>([
    ['an OpenAI / Gemini turn without reasoning', { role: 'assistant', content: null, toolCalls: [call('call_abc')] }],
    ['a Claude turn with redacted thinking only', { role: 'assistant', content: null, toolCalls: [call('toolu_02')], reasoning: [{ type: 'reasoning', text: '', redactedData: 'EmwKAhgB' }] }],
    ['a Gemini turn whose thought is a signature only', { role: 'assistant', content: null, toolCalls: [call('call_5f1e')], reasoning: [{ type: 'reasoning', text: '', signature: 'CiQB' }] }],
  ])('%s: sent with reasoning_content "" (DeepSeek refuses the turn without it)', async (_, turn) => {
    await expect(deepseekEngine().generate(loop(turn))).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    expect(sentTurn()).toMatchObject({ role: 'assistant', reasoning_content: '' });
  });
});

describe('the user turn after a tool loop, sent to DeepSeek (thinking mode)', () => {
  const answer: ChatMessage = { role: 'assistant', content: 'It is sunny in Paris.', reasoning: [{ type: 'reasoning', text: 'The tool says sunny.' }] };
  const next: ChatMessage = { role: 'user', content: 'And tomorrow?' };
  const sent = () => (ds.requests.at(-1)!.body as { messages: Messages }).messages;

  it("the loop's text answer goes with its reasoning_content; a text turn outside a loop goes without", async () => {
    const chat: ChatMessage[] = [{ role: 'user', content: 'Hello' }, { role: 'assistant', content: 'Hi!', reasoning: [{ type: 'reasoning', text: 'A greeting.' }] }];
    const request: GenerateRequest = { messages: [...chat, user, deepseekTurn, result('call_00_8PbHcSBxGUeZ5Fi3C'), answer, next], tools: TOOLS };
    await expect(deepseekEngine().generate(request)).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    const messages = sent();
    expect(messages[1]).toEqual({ role: 'assistant', content: 'Hi!' });
    expect(messages[3]).toMatchObject({ reasoning_content: 'I need the weather tool.' });
    expect(messages[5]).toEqual({ role: 'assistant', content: 'It is sunny in Paris.', reasoning_content: 'The tool says sunny.' });
    // Streamed the same.
    const parts = [];
    for await (const p of deepseekEngine().stream(request)) parts.push(p);
    expect(parts.at(-1)?.type).toBe('finish');
    expect(sent()[5]).toMatchObject({ reasoning_content: 'The tool says sunny.' });
  });

  it('a loop another provider answered (no reasoning): each of its assistant turns, and one with text between two calls, goes with reasoning_content ""', async () => {
    const turn = (id: string): ChatMessage => ({ role: 'assistant', content: null, toolCalls: [call(id)] });
    const request: GenerateRequest = {
      messages: [user, turn('call_a'), result('call_a'), { role: 'assistant', content: 'Checking again.' }, turn('call_b'), result('call_b'), { role: 'assistant', content: 'Sunny.' }, next],
      tools: TOOLS,
    };
    await expect(deepseekEngine().generate(request)).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    expect(sent().filter((m) => m.role === 'assistant').map((m) => m.reasoning_content)).toEqual(['', '', '', '']);
  });
});

describe('a tool turn another provider answered, sent to Anthropic', () => {
  const sent = () => claude.requests.at(-1)!.body as { messages: Messages };

  it('tool call ids Anthropic refuses (Kimi\'s functions.weather:0, a Codex call_1|fc_2) go as ids it takes, each call still paired with its result', async () => {
    const turn: ChatMessage = { role: 'assistant', content: null, toolCalls: [call('functions.weather:0'), call('call_1|fc_2'), call('functions.weather:1')] };
    await expect(claudeEngine().generate(loop(turn))).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    const [, assistant, results] = sent().messages;
    const uses = (assistant!.content as Array<{ type: string; id: string }>).filter((b) => b.type === 'tool_use').map((b) => b.id);
    const answered = (results!.content as Array<{ type: string; tool_use_id: string }>).map((b) => b.tool_use_id);
    expect(uses).toHaveLength(3);
    expect(new Set(uses).size).toBe(3);
    expect(answered).toEqual(uses);
    for (const id of uses) expect(id).toMatch(ANTHROPIC_ID);
    // Streamed too, with the same ids (a pure function of the id).
    const parts = [];
    for await (const p of claudeEngine().stream(loop(turn))) parts.push(p);
    expect(parts.at(-1)?.type).toBe('finish');
    expect((sent().messages[1]!.content as Array<{ id: string }>).map((b) => b.id)).toEqual(uses);
  });

  it('an empty id (a server answered the call with id ""): the call and its result go with the same id it takes', async () => {
    const turn: ChatMessage = { role: 'assistant', content: null, toolCalls: [call('')] };
    await expect(claudeEngine().generate(loop(turn))).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    const [, assistant, results] = sent().messages;
    const useId = (assistant!.content as Array<{ type: string; id: string }>).find((b) => b.type === 'tool_use')!.id;
    expect(useId).toMatch(ANTHROPIC_ID);
    expect((results!.content as Array<Record<string, unknown>>)[0]).toMatchObject({ type: 'tool_result', tool_use_id: useId });
  });

  it('ids it takes are sent unchanged (DeepSeek\'s call_00_..., OpenAI\'s call_..., its own toolu_...)', async () => {
    const turn: ChatMessage = { role: 'assistant', content: null, toolCalls: [call('call_00_8PbHcSBxGUeZ5Fi3C'), call('toolu_01A09q90qw90lq917835lq9'), call('call-x_Y')] };
    await claudeEngine().generate(loop(turn));
    expect((sent().messages[1]!.content as Array<{ id: string }>).map((b) => b.id)).toEqual(['call_00_8PbHcSBxGUeZ5Fi3C', 'toolu_01A09q90qw90lq917835lq9', 'call-x_Y']);
  });

  it('a DeepSeek turn with thinking asked for: its unsigned reasoning is not sent, thinking is turned off with a warning (not a 400)', async () => {
    const answer = await claudeEngine({ capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }).generate(loop(deepseekTurn, { reasoning: { effort: 'high' }, maxTokens: 4096 }));
    expect(answer.text).toBe('It is sunny in Paris.');
    const body = sent() as { messages: Messages; thinking?: unknown };
    expect(body.thinking).toBeUndefined();
    expect((body.messages[1]!.content as Array<{ type: string }>).map((b) => b.type)).toEqual(['tool_use']);
    expect(answer.warnings).toContainEqual(expect.objectContaining({ code: 'setting_not_sent', field: 'reasoning' }));
  });
});

describe('a DeepSeek tool turn sent to Gemini', () => {
  it.each(['gemini-2.5-flash', 'gemini-3-pro-preview'])('%s: the result names its function, the reasoning is not sent, no foreign signature', async (model) => {
    await expect(geminiEngine(model).generate(loop(deepseekTurn))).resolves.toMatchObject({ text: 'It is sunny in Paris.' });
    const contents = (gem.requests.at(-1)!.body as { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> }).contents;
    expect(contents[1]!.parts).toHaveLength(1);
    expect(contents[1]!.parts[0]).toMatchObject({ functionCall: { name: 'weather', args: { city: 'Paris' } } });
    expect(contents[2]!.parts[0]).toMatchObject({ functionResponse: { name: 'weather' } });
  });
});
