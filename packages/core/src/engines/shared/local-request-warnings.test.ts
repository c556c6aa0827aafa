import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/messages.js';
import { localRequestWarnings } from './local-request-warnings.js';

const hi: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const schema = { type: 'object', properties: { a: { type: 'string' } } };

describe('localRequestWarnings: responseFormat.description and strict tools', () => {
  it('a JSON schema format\u2019s description is not used, and said so', () => {
    expect(localRequestWarnings({ messages: hi, responseFormat: { type: 'json_schema', description: 'Where the user is', schema } }, 'gguf')).toEqual([
      { code: 'setting_not_sent', field: 'responseFormat.description', message: expect.stringContaining('the gguf engine enforces the schema with a grammar') },
    ]);
  });

  it('no description, an empty one, or a strict schema format: nothing to say (the grammar enforces the schema)', () => {
    expect(localRequestWarnings({ messages: hi, responseFormat: { type: 'json_schema', schema, strict: true } }, 'gguf')).toBeUndefined();
    expect(localRequestWarnings({ messages: hi, responseFormat: { type: 'json_schema', description: '', schema } }, 'gguf')).toBeUndefined();
  });

  it('a strict tool with toolChoice none (accepted, never called) is no warning', () => {
    expect(localRequestWarnings({ messages: hi, tools: [{ name: 'f', parameters: schema, strict: true }], toolChoice: 'none' }, 'gguf')).toBeUndefined();
  });
});

describe('localRequestWarnings: author names and logitBias', () => {
  it('a system, user or assistant message\u2019s name is not used, and said so; a tool message\u2019s (the function) is none', () => {
    const messages: GenerateRequest['messages'] = [
      { role: 'system', content: 'Moderate.', name: 'moderator' },
      { role: 'user', content: 'hi', name: 'ann' },
      { role: 'assistant', content: 'Hello.', name: 'bot' },
      { role: 'tool', toolCallId: 'c1', content: 'x', name: 'f' },
    ];
    expect(localRequestWarnings({ messages }, 'gguf')?.map((w) => w.field)).toEqual(['messages.0.name', 'messages.1.name', 'messages.2.name']);
  });

  it('a logitBias with entries is not applied, and said so; an empty one is none', () => {
    expect(localRequestWarnings({ messages: hi, logitBias: { '50256': -100 } }, 'onnx')).toEqual([
      { code: 'setting_not_sent', field: 'logitBias', message: expect.stringContaining('the onnx engine has no token logit bias') },
    ]);
    expect(localRequestWarnings({ messages: hi, logitBias: {} }, 'onnx')).toBeUndefined();
  });
});
