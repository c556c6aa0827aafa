import type { StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { dataFrame } from './chat-stream-encoder.js';
import { CompletionStreamEncoder } from './completion-stream-encoder.js';

const route = { type: 'route', requestId: 'req_"quoted"\u2028', deployment: 'dépl\\oy', provider: 'mock', cached: false } as unknown as RoutePart;
const texts = ['hello', ' "quoted" \n\t', 'emoji 🙂 and \u2028', 'lone \ud800 surrogate', '</script>'];

/** The text chunk as the serialized object (the encoder's constant parts are encoded once per stream). */
function chunk(text: string, includeUsage: boolean): string {
  return dataFrame({
    id: `cmpl-${route.requestId}`,
    object: 'text_completion',
    created: 1_700_000_000,
    model: route.deployment,
    system_fingerprint: null,
    choices: [{ text, index: 0, logprobs: null, finish_reason: null }],
    ...(includeUsage ? { usage: null } : {}),
  });
}

describe('CompletionStreamEncoder text chunks', () => {
  it.each([true, false])('are byte for byte the serialized chunk object (include_usage %s)', (includeUsage) => {
    const enc = new CompletionStreamEncoder({ created: 1_700_000_000, includeUsage, explain: false });
    expect(enc.start(route)).toEqual([]);
    for (const delta of texts) expect(enc.part({ type: 'text-delta', delta })).toEqual([chunk(delta, includeUsage)]);
    expect(enc.part({ type: 'text-delta', delta: '' })).toEqual([]);
  });

  it.each([true, false])('a held delta whose logprobs part never comes goes out as the same chunk (include_usage %s)', (includeUsage) => {
    const enc = new CompletionStreamEncoder({ created: 1_700_000_000, includeUsage, explain: false, logprobs: true });
    enc.start(route);
    for (const delta of texts) {
      expect(enc.part({ type: 'text-delta', delta })).toEqual([]);
      const next: StreamPart = { type: 'response-metadata', id: 'x' };
      expect(enc.part(next)).toEqual([chunk(delta, includeUsage)]);
    }
  });
});
