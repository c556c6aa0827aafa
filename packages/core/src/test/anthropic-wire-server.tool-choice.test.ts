import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicWireServer, toolChoiceProblem, type AnthropicWireServer } from './anthropic-wire-server.js';

// The wire server refuses the tool_choice forms the real API refuses: `disable_parallel_tool_use` on `none`
// (ToolChoiceNone has no such field), and a forced choice (`any`, `tool`) with thinking on; it takes
// `disable_parallel_tool_use` on `auto`, `any` and `tool`, and `auto` with it under thinking.

let server: AnthropicWireServer;
beforeAll(async () => {
  server = await startAnthropicWireServer();
});
afterAll(() => server.close());

const headers = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
const post = (path: string, payload: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(payload) });
const tools = [{ name: 'f', input_schema: { type: 'object' } }];
const messages = [{ role: 'user', content: 'hi' }];
const body = (extra: Record<string, unknown>) => ({ model: 'claude-test-1', max_tokens: 2048, messages, tools, ...extra });
const thinking = { type: 'enabled', budget_tokens: 1024 };

async function errorOf(res: Response): Promise<{ status: number; type: string; message: string }> {
  const json = (await res.json()) as { error: { type: string; message: string } };
  return { status: res.status, type: json.error.type, message: json.error.message };
}

describe('anthropic wire server: tool_choice', () => {
  it('takes disable_parallel_tool_use on auto, any and tool, with or without it, and auto with it under thinking', async () => {
    for (const tool_choice of [
      { type: 'auto', disable_parallel_tool_use: true },
      { type: 'any', disable_parallel_tool_use: true },
      { type: 'tool', name: 'f', disable_parallel_tool_use: true },
      { type: 'auto', disable_parallel_tool_use: false },
      { type: 'none' },
    ]) {
      expect((await post('/v1/messages', body({ tool_choice }))).status).toBe(200);
      expect((await post('/v1/messages/count_tokens', { model: 'claude-test-1', messages, tools, tool_choice })).status).toBe(200);
    }
    for (const mode of [thinking, { type: 'adaptive' }]) {
      expect((await post('/v1/messages', body({ thinking: mode, tool_choice: { type: 'auto', disable_parallel_tool_use: true } }))).status).toBe(200);
      expect((await post('/v1/messages', body({ thinking: mode, tool_choice: { type: 'none' } }))).status).toBe(200);
    }
  });

  it('answers 400 to disable_parallel_tool_use on none (true or false), on messages and count_tokens', async () => {
    for (const value of [true, false]) {
      const tool_choice = { type: 'none', disable_parallel_tool_use: value };
      expect(await errorOf(await post('/v1/messages', body({ tool_choice })))).toEqual({
        status: 400,
        type: 'invalid_request_error',
        message: 'tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted',
      });
      expect(await errorOf(await post('/v1/messages/count_tokens', { model: 'claude-test-1', messages, tools, tool_choice }))).toMatchObject({ status: 400, type: 'invalid_request_error' });
    }
  });

  it('answers 400 with the API\u2019s message to a forced choice with thinking (enabled or adaptive), not to thinking disabled', async () => {
    for (const mode of [thinking, { type: 'adaptive' }]) {
      for (const tool_choice of [{ type: 'any' }, { type: 'tool', name: 'f', disable_parallel_tool_use: true }]) {
        expect(await errorOf(await post('/v1/messages', body({ thinking: mode, tool_choice })))).toEqual({
          status: 400,
          type: 'invalid_request_error',
          message: 'Thinking may not be enabled when tool_choice forces tool use.',
        });
      }
    }
    expect((await post('/v1/messages', body({ thinking: { type: 'disabled' }, tool_choice: { type: 'any' } }))).status).toBe(200);
  });

  it('toolChoiceProblem: no tool_choice, or a non-object one, is no problem; count_tokens skips the thinking rule', () => {
    expect(toolChoiceProblem({}, true)).toBeUndefined();
    expect(toolChoiceProblem({ tool_choice: null, thinking }, true)).toBeUndefined();
    expect(toolChoiceProblem({ tool_choice: { type: 'any' }, thinking }, false)).toBeUndefined();
  });
});
