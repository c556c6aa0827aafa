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
