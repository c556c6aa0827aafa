import type { GeminiWireServer } from '@llmrr/core/test';
import { startGeminiWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { UNANSWERED_TOOL_RESULT } from '../test-support/unanswered-tool-result.js';

// /v1/messages: the system prompt comes first among core's messages and each tool_result is a core message of its
// own, so core's message indexes are not the client's. An engine's 400 about a message names the client's
// `messages.N` (`convertMessagesRequest`'s messagePaths), as Anthropic's own errors do.

let geminiUp: GeminiWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  geminiUp = await startGeminiWireServer({ apiKey: 'gk' });
  gw = await servedGateway({
    models: [
      { name: 'gem', engine: 'gemini', baseURL: geminiUp.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'tools'] },
      // Counts with the upstream's :countTokens (which converts the request first).
      { name: 'gem-count', engine: 'gemini', baseURL: geminiUp.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'tools'], options: { exactTokenCount: true } },
    ],
    upstreams: [geminiUp],
  });
});
afterAll(() => gw?.close());

describe('/v1/messages: errors name the client\u2019s message', () => {
  it('a tool_result answering no tool call (Gemini needs its name): messages.2, after a system prompt and a split user turn', async () => {
    const error = await gw
      .anthropic()
      .messages.create({
        model: 'gem',
        max_tokens: 50,
        system: [
          { type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Today is Thursday.' },
        ],
        messages: UNANSWERED_TOOL_RESULT,
      })
      .catch((e: unknown) => e);
    // Core's messages: 2 system segments, the question, the tool call, 2 tool results: the bad one is core's 5,
    // the client's second block of messages.2.
    expect(error).toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error' } } });
    const body = (error as { error: { error: { message: string; param?: string } } }).error.error;
    expect(body.message).toContain('messages.2.content.1: no earlier assistant tool call has id "t9"');
    expect(body.message).not.toContain('messages.5');
    expect(geminiUp.requests).toHaveLength(0);
  });

  it('count_tokens: the same message named', async () => {
    const error = await gw
      .anthropic()
      .messages.countTokens({
        model: 'gem-count',
        system: 'Rules.',
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't9', content: 'Rainy' }] }],
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
    const body = (error as { error: { error: { message: string } } }).error.error;
    expect(body.message).toContain('messages.0.content.0: no earlier assistant tool call has id "t9"');
  });
});
