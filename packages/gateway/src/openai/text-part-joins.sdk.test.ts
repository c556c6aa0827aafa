import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// How the gateway joins a message's separate text parts into the one string an engine sends, driven by the official
// openai and @anthropic-ai/sdk clients against an OpenAI-wire upstream (what the deployment receives is what the model
// sees). Parts the client wrote apart (system and developer parts on chat completions and the Responses API, tool
// outputs' parts, /v1/messages system and tool_result blocks) are joined with "\n" on every front, as /v1/messages
// joins user blocks and as vLLM joins a message's text parts, so ["You are terse.", "Answer in French."] never runs
// together; a mark on a part changes nothing of the text. An assistant turn's text parts, the model's own answer in
// pieces (the gateway's streamed /v1/messages answer splits its text around a tool call; the JSON answer is one
// string), are joined as they are on every front, nothing added (["Let me ", "check."] -> "Let me check."), so the
// gateway's own split answer given back is the text the model wrote (answer-seams.sdk.test.ts: also in languages
// written without spaces, and the exact cache hits on it). The exact cache keys on the joined text: a system
// prompt as parts and the same text as one string share an entry; the parts run together do not.

// One `gpt` deployment over a local OpenAI-wire upstream, with the exact cache.
const wire = openAIOverWire({ cache: { exact: { enabled: true } } });
/** The messages the upstream received in its last request. */
const sent = () => wire.sent();

const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];

describe('chat completions', () => {
  it('system and developer parts are joined with "\\n", marked or not', async () => {
    await wire.gw.openai().chat.completions.create({
      model: 'gpt',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }] },
        { role: 'developer', content: [{ type: 'text', text: 'Rule one.', cache_control: { type: 'ephemeral' } } as OpenAI.ChatCompletionContentPartText, { type: 'text', text: 'Rule two.' }] },
        { role: 'user', content: 'Hi (1)' },
      ],
    });
    expect(sent().slice(0, 2)).toEqual([
      { role: 'system', content: 'You are terse.\nAnswer in French.' },
      { role: 'system', content: 'Rule one.\nRule two.' },
    ]);
  });

  it('a tool message\'s parts are joined with "\\n"; an assistant message\'s as they are', async () => {
    await wire.gw.openai().chat.completions.create({
      model: 'gpt',
      tools,
      messages: [
        { role: 'user', content: 'Look it up (2)' },
        { role: 'assistant', content: [{ type: 'text', text: 'Let me ' }, { type: 'text', text: 'check.' }, { type: 'text', text: 'Found it.' }], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'line one' }, { type: 'text', text: 'line two' }] },
      ],
    });
    const [, assistant, tool] = sent();
    expect(assistant!.content).toBe('Let me check.Found it.');
    expect(tool!.content).toBe('line one\nline two');
  });

  it('the exact cache: system parts hit the entry of the same text as one string, not of the parts run together', async () => {
    const ask = (system: OpenAI.ChatCompletionSystemMessageParam['content']) =>
      wire.gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'system', content: system }, { role: 'user', content: 'Cache me (3)' }] }).withResponse();
    const first = await ask([{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Be kind.' }]);
    expect(first.response.headers.get('x-llmrr-cache')).toBe('miss');
    const same = await ask('Be brief.\nBe kind.');
    expect(same.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    const runTogether = await ask('Be brief.Be kind.');
    expect(runTogether.response.headers.get('x-llmrr-cache')).toBe('miss');
  });
});

describe('the Responses API', () => {
  it('developer input_text parts and a function_call_output\'s parts are joined with "\\n"; assistant output_text parts as they are', async () => {
    await wire.gw.openai().responses.create({
      model: 'gpt',
      tools: [{ type: 'function', name: 'search', parameters: { type: 'object' }, strict: null }],
      input: [
        { role: 'developer', content: [{ type: 'input_text', text: 'You are terse.' }, { type: 'input_text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Look it up (4)' },
        { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Let me ', annotations: [] }, { type: 'output_text', text: 'check.', annotations: [] }, { type: 'output_text', text: 'Found it.', annotations: [] }] },
        { type: 'function_call', call_id: 'c1', name: 'search', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'line one' }, { type: 'input_text', text: 'line two' }] },
      ],
    });
    const messages = sent();
    expect(messages[0]).toEqual({ role: 'system', content: 'You are terse.\nAnswer in French.' });
    expect(messages[2]!.content).toBe('Let me check.Found it.');
    expect(messages[3]).toMatchObject({ role: 'tool', content: 'line one\nline two' });
  });
  it('an assistant message after its function call (the gateway\'s own [message, function_call, message] output) joins the turn the same way', async () => {
    await wire.gw.openai().responses.create({
      model: 'gpt',
      tools: [{ type: 'function', name: 'search', parameters: { type: 'object' }, strict: null }],
      input: [
        { role: 'user', content: 'Look it up (7)' },
        { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Let me check.', annotations: [] }] },
        { type: 'function_call', call_id: 'c1', name: 'search', arguments: '{}' },
        { type: 'message', role: 'assistant', id: 'msg_2', status: 'completed', content: [{ type: 'output_text', text: 'One moment.', annotations: [] }] },
        { type: 'function_call_output', call_id: 'c1', output: 'a cat' },
      ],
    });
    const messages = sent();
    expect(messages[1]).toMatchObject({ role: 'assistant', content: 'Let me check.One moment.' });
    expect(messages[2]).toMatchObject({ role: 'tool', content: 'a cat' });
  });
});

describe('/v1/messages (the same rules)', () => {
  it('system and tool_result blocks are joined with "\\n", an assistant turn\'s text blocks as they are', async () => {
    await wire.gw.anthropic().messages.create({
      model: 'gpt',
      max_tokens: 20,
      system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }],
      tools: [{ name: 'search', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Look it up (5)' },
        { role: 'assistant', content: [{ type: 'text', text: 'Let me ' }, { type: 'text', text: 'check.' }, { type: 'text', text: 'Found it.' }, { type: 'tool_use', id: 'c1', name: 'search', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: [{ type: 'text', text: 'line one' }, { type: 'text', text: 'line two' }] }] },
      ],
    });
    const messages = sent();
    expect(messages[0]).toEqual({ role: 'system', content: 'You are terse.\nAnswer in French.' });
    expect(messages[2]!.content).toBe('Let me check.Found it.');
    expect(messages[3]).toMatchObject({ role: 'tool', content: 'line one\nline two' });
  });

  it('the gateway\'s own streamed answer, text split around a tool call, given back: the model\'s text as it came', async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    wire.upstream.setScript({
      rawSSE: [
        chunk({ role: 'assistant', content: 'Let me check.' }),
        chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'search', arguments: '{"q":' } }] }),
        chunk({ content: ' One moment.' }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"cat"}' } }] }),
        chunk({}, 'tool_calls'),
        'data: [DONE]\n\n',
      ].join(''),
    });
    const ask = { model: 'gpt', max_tokens: 20, tools: [{ name: 'search', input_schema: { type: 'object' as const } }] };
    const first: Anthropic.MessageParam = { role: 'user', content: 'Look it up (6)' };
    const answer = await wire.gw.anthropic().messages.stream({ ...ask, messages: [first] }).finalMessage();
    // The text that came while the call was unfinished waits for it, then is a block of its own.
    expect(answer.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'text']);
    wire.upstream.setScript({ text: 'ok' });
    await wire.gw.anthropic().messages.create({
      ...ask,
      messages: [first, { role: 'assistant', content: answer.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: 'a cat' }] }],
    });
    expect(sent()[1]).toMatchObject({ role: 'assistant', content: 'Let me check. One moment.' });
  });
});
