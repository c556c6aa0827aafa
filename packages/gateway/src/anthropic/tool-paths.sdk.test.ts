import { LLMError, type CallOptions, type GenerateRequest, type GenerateResult } from '@llmrr/core';
import { MockEngine } from '@llmrr/core/test';
import type Anthropic from '@anthropic-ai/sdk';
import { parseList, Token } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClientMessagePath, withClientWarningPaths } from '../schemas/client-message-paths.js';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { WarningEngine } from '../test-support/warning-engine.js';
import { convertMessagesRequest } from './to-generate-request.js';

// /v1/messages tool paths: core's `messages.N.toolCalls.K` (a tool call of an assistant turn) is the client's tool_use
// block `messages.M.content.J` (its `arguments` the block's `input`), and each tool message core makes of a
// tool_result block is that block, `messages.M.content.J`: in errors and in x-llmrr-warnings.

const MESSAGES: Anthropic.MessageParam[] = [
  { role: 'user', content: 'Weather in Paris and Rome?' },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Looking.' },
      { type: 'tool_use', id: 't1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 't2', name: 'get_weather', input: { city: 'Rome' } },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 't1', content: 'Sunny' },
      { type: 'tool_result', tool_use_id: 't2', content: 'Rainy' },
      { type: 'text', text: 'And tomorrow?' },
    ],
  },
];
const TOOLS: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];

describe('convertMessagesRequest records the tool blocks', () => {
  it('core: system, user, assistant (2 calls), 2 tool messages, user; the paths name each block', () => {
    const { request, messagePaths } = convertMessagesRequest({ model: 'm', max_tokens: 10, system: 'S', messages: MESSAGES as never, tools: TOOLS as never });
    expect(request.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'user']);
    const at = (path: string) => withClientMessagePath(new LLMError({ code: 'invalid_request', message: `${path}: bad`, param: path }), messagePaths);
    expect(at('messages.2.toolCalls.1.arguments')).toMatchObject({ param: 'messages.1.content.2.input', message: 'messages.1.content.2.input: bad' });
    expect(at('messages.2.toolCalls.0.id')).toMatchObject({ param: 'messages.1.content.1.id' });
    expect(at('messages.2.toolCalls.0.name')).toMatchObject({ param: 'messages.1.content.1.name' });
    expect(at('messages.2.toolCalls.0')).toMatchObject({ param: 'messages.1.content.1' });
    expect(at('messages.2.content')).toMatchObject({ param: 'messages.1.content' });
    // A tool result's fields as the tool_result block names them: core's toolCallId is its tool_use_id.
    expect(at('messages.3.toolCallId')).toMatchObject({ param: 'messages.2.content.0.tool_use_id', message: 'messages.2.content.0.tool_use_id: bad' });
    expect(at('messages.3.tool_call_id')).toMatchObject({ param: 'messages.2.content.0.tool_use_id' });
    // The string system prompt is the system message's text: core's messages.0.content is `system`.
    expect(at('messages.0.content')).toMatchObject({ param: 'system', message: 'system: bad' });
    expect(at('messages.4.content')).toMatchObject({ param: 'messages.2.content.1.content' });
    expect(at('messages.5.content')).toMatchObject({ param: 'messages.2.content' });
    // OpenAI's bracketed form keeps its form: every index bracketed.
    expect(at('messages[2].tool_calls[1].function.arguments')).toMatchObject({ param: 'messages[1].content[2].input' });
    expect(at('messages.[4].role')).toMatchObject({ param: 'messages.[2].content.[1].role' });
  });

  it('without tools and system, one core message per client message: no paths', () => {
    expect(convertMessagesRequest({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'text', text: 'Yo' }] }, { role: 'user', content: 'Go' }] }).messagePaths).toBeUndefined();
  });

  it('warnings name the blocks too', () => {
    const { messagePaths } = convertMessagesRequest({ model: 'm', max_tokens: 10, messages: MESSAGES as never });
    const shown = withClientWarningPaths([{ code: 'c', field: 'messages.1.toolCalls.0.arguments', message: 'messages.1.toolCalls.0.arguments was changed.' }, { code: 'c', field: 'messages.3.cacheControl', message: 'x' }], messagePaths);
    expect(shown).toEqual([
      { code: 'c', field: 'messages.1.content.1.input', message: 'messages.1.content.1.input was changed.' },
      { code: 'c', field: 'messages.2.content.1.cacheControl', message: 'x' },
    ]);
  });
});

/** An engine that refuses the second tool call's arguments of core message 2 (as a provider's 400 would). */
class RefusingEngine extends MockEngine {
  override async generate(_request: GenerateRequest, _options?: CallOptions): Promise<GenerateResult> {
    throw new LLMError({ code: 'invalid_request', message: 'messages.2.toolCalls.1.arguments: not valid for this provider', param: 'messages.2.toolCalls.1.arguments' });
  }
}

let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({
    models: [mockModel('refusing'), mockModel('warned')],
    routerOptions: {
      env: {},
      engines: {
        refusing: new RefusingEngine({ modelId: 'refusing-test' }),
        warned: new WarningEngine({ modelId: 'warned-test', reply: 'Hi.' }, [
          { code: 'cache_control_dropped', field: 'messages.2.toolCalls.1', message: 'messages.2.toolCalls.1 was not marked.' },
          { code: 'cache_control_dropped', field: 'messages.4.cacheControl', message: 'messages.4.cacheControl was not sent.' },
        ]),
      },
    },
  });
});
afterAll(() => gw?.close());

describe('through a served gateway and @anthropic-ai/sdk', () => {
  it('an engine error about a tool call\u2019s arguments names the client\u2019s tool_use block input', async () => {
    const error = (await gw
      .anthropic()
      .messages.create({ model: 'refusing', max_tokens: 50, system: 'S', messages: MESSAGES, tools: TOOLS })
      .catch((e: unknown) => e)) as { status: number; error: { error: { message: string } } };
    expect(error.status).toBe(400);
    expect(error.error.error.message).toContain('messages.1.content.2.input: not valid for this provider');
  });

  it('the engine\u2019s warnings in x-llmrr-warnings name the tool_use and tool_result blocks', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'warned', max_tokens: 50, system: 'S', messages: MESSAGES, tools: TOOLS }).withResponse();
    const members = parseList(response.headers.get('x-llmrr-warnings')!).map(([item, params]) => [item instanceof Token ? item.toString() : String(item), params.get('field')]);
    expect(members).toEqual([
      ['last_message_noted', 'messages.2'],
      ['cache_control_dropped', 'messages.1.content.2'],
      // Core's cacheControl mark is the block's cache_control.
      ['cache_control_dropped', 'messages.2.content.1.cache_control'],
    ]);
  });
});
