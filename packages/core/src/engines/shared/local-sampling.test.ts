import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { rejection } from '../../test/async.test-helpers.js';
import { refuseTools, resolveLocalSampling } from './local-sampling.js';

const messages: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const defaults = { maxTokens: 16, temperature: 0, topP: 0.9, seed: 7 };

describe('resolveLocalSampling', () => {
  it('fills in the defaults and drops empty stop strings', () => {
    expect(resolveLocalSampling({ messages, stop: ['', 'END'] }, defaults, 'x')).toEqual({ maxTokens: 16, temperature: 0, topP: 0.9, seed: 7, stop: ['END'] });
    expect(resolveLocalSampling({ messages, maxTokens: 3, temperature: 0.5, topP: 1, seed: 1 }, defaults, 'x')).toEqual({ maxTokens: 3, temperature: 0.5, topP: 1, seed: 1, stop: [] });
  });

  it('takes topP 0 (OpenAI range [0, 1]) as greedy: temperature 0, no nucleus limit', () => {
    expect(resolveLocalSampling({ messages, temperature: 1, topP: 0 }, defaults, 'x')).toMatchObject({ temperature: 0, topP: undefined });
    expect(resolveLocalSampling({ messages, temperature: 1 }, { ...defaults, topP: 0 }, 'x')).toMatchObject({ temperature: 0, topP: undefined });
  });

  it.each([
    ['maxTokens', { maxTokens: 0 }],
    ['temperature', { temperature: -1 }],
    ['topP', { topP: -0.1 }],
    ['topP', { topP: 1.5 }],
    ['seed', { seed: 1.5 }],
    ['stop', { stop: [1] as unknown as string[] }],
  ])('refuses a bad %s with invalid_request naming the field and the engine', async (param, bad) => {
    const error = await rejection(Promise.resolve().then(() => resolveLocalSampling({ messages, ...bad }, defaults, 'gguf')));
    expect([error.code, error.param, error.provider]).toEqual(['invalid_request', param, 'gguf']);
    expect(error.message).toMatch(new RegExp(`^${param}: `));
  });
});

describe('refuseTools', () => {
  const tools: GenerateRequest['tools'] = [{ name: 'f', parameters: { type: 'object' } }];
  it('refuses tools unless toolChoice is none', async () => {
    const error = await rejection(Promise.resolve().then(() => refuseTools({ messages, tools }, 'onnx')));
    expect([error.code, error.param, error.message]).toEqual(['unsupported', 'tools', 'tools: the onnx engine does not support tool calling']);
    expect(() => refuseTools({ messages, tools, toolChoice: 'none' }, 'onnx')).not.toThrow();
    expect(() => refuseTools({ messages }, 'onnx')).not.toThrow();
  });
});
