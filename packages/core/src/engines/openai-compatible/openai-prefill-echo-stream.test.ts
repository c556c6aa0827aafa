import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

const wire = useOpenAIWireServer({ script: { text: '{"capital": "Paris"}' } });
const prefill = '{"capital": "';
const req: GenerateRequest = {
  messages: [{ role: 'user', content: 'The capital of France?' }, { role: 'assistant', content: prefill }],
  continueFinalMessage: true,
  providerOptions: { mistral: { messages: [{ role: 'user', content: 'The capital of France?' }, { role: 'assistant', content: prefill, prefix: true }] } },
};

describe('Mistral echo strip: JSON and stream agree whatever options.prefill (the caller sets prefix: true)', () => {
  for (const prefillOpt of ['none', 'native', undefined]) {
    it(`mistral, options.prefill ${prefillOpt}, the caller's messages with prefix: true`, async () => {
      const engine = wire.engine({ preset: 'mistral', apiKey: 'k', baseURL: wire.server.baseURL, ...(prefillOpt ? { options: { prefill: prefillOpt } } : {}) });
      const json = (await engine.generate(req)).text;
      let streamed = '';
      for await (const p of engine.stream(req)) if (p.type === 'text-delta') streamed += p.delta;
      expect(json).toBe('Paris"}');
      expect(streamed).toBe(json);
    });
  }
});
