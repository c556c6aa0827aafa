import type { GeminiWireServer } from '@llmrr/core/test';
import { startGeminiWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { UNANSWERED_TOOL_RESULT } from '../test-support/unanswered-tool-result.js';

// /v1/messages tool_result blocks named by their own paths: a tool call's fields are named as the tool_use block
// names them (`id`, `name`, `input`), and a tool result's as the tool_result block does: core's `toolCallId` is the
// block's `tool_use_id` (not a field the body has not).

let geminiUp: GeminiWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  geminiUp = await startGeminiWireServer({ apiKey: 'gk' });
  gw = await servedGateway({
    models: [{ name: 'gem', engine: 'gemini', baseURL: geminiUp.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'tools'] }],
    upstreams: [geminiUp],
  });
});
afterAll(() => gw?.close());

describe('/v1/messages tool_result paths', () => {
  it('an engine error about a tool result\u2019s toolCallId names the tool_result block\u2019s tool_use_id', async () => {
    const error = (await gw
      .anthropic()
      .messages.create({
        model: 'gem',
        max_tokens: 50,
        system: 'S',
        messages: UNANSWERED_TOOL_RESULT,
      })
      .catch((e: unknown) => e)) as { status: number; error: { error: { message: string; param?: string } } };
    expect(error.status).toBe(400);
    // The Gemini engine refuses core's messages.4.toolCallId (no call has id t9): the client's messages.2.content.1.
    expect(error.error.error.param).toBe('messages.2.content.1.tool_use_id');
    expect(geminiUp.requests).toHaveLength(0);
  });
});
