import { describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { ChatStreamEncoder, dataFrame } from './chat-stream-encoder.js';

const route = { type: 'route', requestId: 'req_"quoted"\u2028', deployment: 'dépl\\oy', provider: 'mock', cached: false } as unknown as RoutePart;

describe('ChatStreamEncoder content chunks', () => {
  it.each([true, false])('are byte for byte the serialized chunk object (include_usage %s)', (includeUsage) => {
    const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage, explain: false });
    enc.start(route);
    for (const delta of ['hello', ' "quoted" \n\t', 'emoji 🙂 and \u2028', 'lone \ud800 surrogate', '</script>', '']) {
      const expected =
        delta === ''
          ? []
          : [
              dataFrame({
                id: `chatcmpl-${route.requestId}`,
                object: 'chat.completion.chunk',
                created: 1_700_000_000,
                model: route.deployment,
                system_fingerprint: null,
                choices: [{ index: 0, delta: { content: delta }, logprobs: null, finish_reason: null }],
                ...(includeUsage ? { usage: null } : {}),
              }),
            ];
      expect(enc.part({ type: 'text-delta', delta })).toEqual(expected);
      const frame = enc.part({ type: 'reasoning-delta', delta })[0];
      if (delta !== '') expect(JSON.parse(frame!.slice(6)).choices[0].delta).toEqual({ reasoning_content: delta });
    }
  });
});
