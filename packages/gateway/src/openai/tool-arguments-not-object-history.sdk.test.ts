import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The official openai client on /v1/chat/completions, an agent loop whose history holds a tool call with arguments
// that are not a JSON object: the model's own earlier call, cut by max_tokens (finish_reason "length") or malformed by
// a small model, which the agent answered with an error tool result (the OpenAI Agents SDK and LangGraph keep such a
// call and report the parse error to the model). OpenAI takes `function.arguments` as any string; Anthropic's
// `tool_use.input` and Gemini's `functionCall.args` only as an object. core's converters (`toolArgumentsObject`) send
// such text as `{ "_raw": text }` (as the gateway's own /v1/messages answers keep such arguments, message-response.ts
// `toolInput`) with a `setting_changed` warning naming the call's arguments, so the conversation goes on: refused, it
// would be a 400 on every later turn.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gem')]);

const TOOLS: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
function history(args: string): OpenAI.ChatCompletionMessageParam[] {
  return [
    { role: 'user', content: 'Weather in Oslo?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'Error: the arguments were not valid JSON. Try again.' },
  ];
}

/** The arguments of the history's call as the upstream of `model` got them. */
function sentArguments(model: 'claude' | 'gem'): unknown {
  if (model === 'claude') {
    const messages = wire.upstreams.anthropic.requests.at(-1)!.body!.messages as Array<{ content: Array<{ type: string; input?: unknown }> }>;
    return messages[1]!.content.find((b) => b.type === 'tool_use')?.input;
  }
  const contents = wire.upstreams.gemini.requests.at(-1)!.body!.contents as Array<{ parts: Array<{ functionCall?: { args?: unknown } }> }>;
  return contents[1]!.parts.find((p) => p.functionCall)?.functionCall?.args;
}

describe('openai client: a tool call with arguments that are not a JSON object in the history', () => {
  for (const model of ['claude', 'gem'] as const) {
    for (const args of ['{"city": "Os', '[1,2]', '"str"']) {
      it(`${model}, ${args}: the next turn answers, the text sent as { _raw }, with a warning naming the arguments`, async () => {
        const { data, response } = await wire.gw.openai().chat.completions.create({ model, tools: TOOLS, messages: history(args) }).withResponse();
        expect(data.choices[0]!.finish_reason).toBe('stop');
        expect(sentArguments(model)).toEqual({ _raw: args });
        expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_changed', 'messages.1.tool_calls.0.function.arguments']);
      });
    }
  }
});
