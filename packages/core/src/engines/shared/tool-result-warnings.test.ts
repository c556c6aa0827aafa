import { describe, expect, it } from 'vitest';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import { useGeminiWireServer } from '../gemini/gemini-wire.test-helpers.js';
import { useOpenAIWireServer } from '../openai-compatible/openai-wire.test-helpers.js';

// Engines that send a tool result as text (OpenAI-compatible chat completions, Gemini's function response) send a tool
// message's `content` and say what they left out: each image of its `parts` and, where the provider has no error flag
// (OpenAI-compatible), `isError`; Gemini gives a failed call's result under the `error` key. Against local peers
// speaking each wire format.

const openai = useOpenAIWireServer();
const gemini = useGeminiWireServer();

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function toolTurn(result: Omit<Extract<ChatMessage, { role: 'tool' }>, 'role' | 'toolCallId'>): GenerateRequest {
  return {
    messages: [
      { role: 'user', content: 'Take a screenshot' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'screenshot', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'call_1', ...result },
    ],
    tools: [{ name: 'screenshot', parameters: { type: 'object', properties: {} } }],
  };
}

const withImage = toolTurn({
  content: 'Here it is:\nthat was the screen',
  parts: [
    { type: 'text', text: 'Here it is:' },
    { type: 'image', data: PNG, mediaType: 'image/png' },
    { type: 'text', text: 'that was the screen' },
  ],
  isError: true,
});

describe('tool results on engines that send them as text', () => {
  it('OpenAI-compatible: the content text; the image and isError not sent, each warned about', async () => {
    const result = await openai.engine().generate(withImage);
    const messages = openai.lastBody().messages as Array<Record<string, unknown>>;
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'Here it is:\nthat was the screen' });
    expect(JSON.stringify(openai.lastBody())).not.toContain(PNG);
    expect(result.warnings).toEqual([
      { code: 'setting_not_sent', field: 'messages.2.parts.1', message: "messages.2.parts.1 (an image) was not sent: the OpenAI-compatible engine sends a tool result's text only." },
      { code: 'setting_not_sent', field: 'messages.2.isError', message: 'messages.2.isError was not sent: the OpenAI-compatible engine has no error flag on a tool result; its text went as the result.' },
    ]);
  });

  it('OpenAI-compatible, streamed: the same warnings part first', async () => {
    const parts = [];
    for await (const part of openai.engine().stream(withImage)) parts.push(part);
    expect(parts[0]).toEqual({ type: 'warnings', warnings: [expect.objectContaining({ field: 'messages.2.parts.1' }), expect.objectContaining({ field: 'messages.2.isError' })] });
  });

  it('OpenAI-compatible: a text-only tool result that did not fail is no warning', async () => {
    const result = await openai.engine().generate(toolTurn({ content: 'a\nb', parts: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }));
    expect(result.warnings).toBeUndefined();
  });

  it('Gemini: a failed call as the function response\u2019s error; the image not sent, warned about', async () => {
    const result = await gemini.engine().generate(withImage);
    const contents = gemini.lastBody().contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>;
    expect(contents.at(-1)!.parts).toEqual([{ functionResponse: { name: 'screenshot', response: { error: 'Here it is:\nthat was the screen' } } }]);
    expect(JSON.stringify(gemini.lastBody())).not.toContain(PNG);
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'setting_not_sent', field: 'messages.2.parts.1' })]);
  });

  it('Gemini: a JSON error goes as the error object; a result that did not fail as before', async () => {
    await gemini.engine().generate(toolTurn({ content: '{"code":"ENOENT"}', isError: true }));
    let contents = gemini.lastBody().contents as Array<{ parts: Array<Record<string, unknown>> }>;
    expect(contents.at(-1)!.parts[0]).toEqual({ functionResponse: { name: 'screenshot', response: { error: { code: 'ENOENT' } } } });
    await gemini.engine().generate(toolTurn({ content: '{"width":1}' }));
    contents = gemini.lastBody().contents as Array<{ parts: Array<Record<string, unknown>> }>;
    expect(contents.at(-1)!.parts[0]).toEqual({ functionResponse: { name: 'screenshot', response: { width: 1 } } });
  });
});
