import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicModelTakesMidConversationSystem } from '../engines/anthropic/anthropic-mid-conversation-models.js';
import { anthropicWireModelTakesSystemMessages, startAnthropicWireServer, systemMessageProblem, type AnthropicWireServer } from './anthropic-wire-server.js';

// The wire server refuses `{ role: "system" }` inside `messages` as the real API does (mid-conversation system
// messages guide): on a model other than Claude Opus 4.8, and at a place the placement rules forbid.

let server: AnthropicWireServer;
let open: AnthropicWireServer;
beforeAll(async () => {
  server = await startAnthropicWireServer();
  open = await startAnthropicWireServer({ midConversationSystem: true });
});
afterAll(async () => {
  await server.close();
  await open.close();
});

const headers = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
const post = (url: string, path: string, payload: unknown) => fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(payload) });

const user = (text = 'hi') => ({ role: 'user', content: text });
const assistant = (text = 'ok') => ({ role: 'assistant', content: [{ type: 'text', text }] });
const sys = (content: unknown = 'Now answer in French.') => ({ role: 'system', content });
const body = (messages: unknown[], model = 'claude-opus-4-8') => ({ model, max_tokens: 8, messages });

async function errorOf(res: Response): Promise<{ status: number; type: string; message: string }> {
  const json = (await res.json()) as { error: { type: string; message: string } };
  return { status: res.status, type: json.error.type, message: json.error.message };
}

describe('anthropic wire server: mid-conversation system messages', () => {
  it('knows Claude Opus 4.8 by its API ids only, as the engine does (the same matcher)', () => {
    for (const id of ['claude-opus-4-8', 'claude-opus-4-8-20260528', 'claude-opus-4.8', 'Claude-Opus-4-8', 'CLAUDE-OPUS-4.8-20260528']) {
      expect(anthropicWireModelTakesSystemMessages(id)).toBe(true);
      expect(anthropicModelTakesMidConversationSystem(id)).toBe(true);
    }
    for (const id of ['claude-opus-4-7', 'claude-sonnet-4-5', 'claude-opus-4-80', 'anthropic.claude-opus-4-8-v1:0', 'claude-opus-4-8@20260528', 'claude-test-1']) {
      expect(anthropicWireModelTakesSystemMessages(id)).toBe(false);
      expect(anthropicModelTakesMidConversationSystem(id)).toBe(false);
    }
    expect(anthropicWireModelTakesSystemMessages(42)).toBe(false);
  });

  it('takes a system message on the dotted, upper-case id the engine sends it in place for', async () => {
    const res = await post(server.url, '/v1/messages', body([user(), sys()], 'Claude-Opus-4.8'));
    expect(res.status).toBe(200);
  });

  it('takes a system message after a user turn, at the end or before an assistant turn, on Opus 4.8', async () => {
    const atEnd = await post(server.url, '/v1/messages', body([user(), assistant(), user('and now?'), sys()]));
    expect(atEnd.status).toBe(200);
    const beforeAssistant = await post(server.url, '/v1/messages', body([user(), sys([{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }]), assistant(), user('more')]));
    expect(beforeAssistant.status).toBe(200);
    const count = await post(server.url, '/v1/messages/count_tokens', { model: 'claude-opus-4-8', messages: [user(), sys()] });
    expect(count.status).toBe(200);
  });

  it("answers 400 invalid_request_error \"role 'system' is not supported on this model\" on other models, count_tokens too", async () => {
    const res = await post(server.url, '/v1/messages', body([user(), sys()], 'claude-sonnet-4-5'));
    expect(await errorOf(res)).toEqual({ status: 400, type: 'invalid_request_error', message: "messages.1.role: role 'system' is not supported on this model" });
    const count = await post(server.url, '/v1/messages/count_tokens', { model: 'claude-test-1', messages: [user(), sys()] });
    expect(await errorOf(count)).toMatchObject({ status: 400, message: expect.stringContaining("role 'system' is not supported") });
  });

  it('answers 400 naming the rule for each bad placement and for content that is not text', async () => {
    const cases: Array<[unknown[], RegExp]> = [
      [[sys(), user()], /messages\.0: a system message cannot be the first entry/],
      [[user(), assistant(), sys()], /messages\.2: a system message must immediately follow a user message/],
      [[user(), sys(), user('again')], /messages\.1: a system message must be the last entry in messages or be followed by an assistant message/],
      [[user(), sys(), sys('more')], /messages\.2: consecutive system messages are not allowed/],
      [[user(), sys([{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }])], /messages\.1\.content\.0\.type: system messages support text blocks only/],
      [[user(), sys('')], /messages\.1\.content: system message content must be non-empty/],
      [[user(), sys([])], /messages\.1\.content: system message content must be a non-empty/],
      [[user(), sys([{ type: 'text', text: '' }])], /messages\.1\.content\.0\.text: text content blocks must be non-empty/],
    ];
    for (const [messages, rule] of cases) {
      const res = await post(server.url, '/v1/messages', body(messages));
      const error = await errorOf(res);
      expect(error.status, JSON.stringify(messages)).toBe(400);
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toMatch(rule);
    }
  });

  it('takes one after an assistant turn that ends in a server tool use', () => {
    const serverTool = { role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } }] };
    expect(systemMessageProblem(body([user(), serverTool, sys()]), true)).toBeUndefined();
  });

  it('with midConversationSystem: true takes them on every model, placement rules still enforced', async () => {
    expect((await post(open.url, '/v1/messages', body([user(), sys()], 'claude-test-1'))).status).toBe(200);
    expect((await errorOf(await post(open.url, '/v1/messages', body([sys(), user()], 'claude-test-1')))).message).toMatch(/first entry/);
  });
});
