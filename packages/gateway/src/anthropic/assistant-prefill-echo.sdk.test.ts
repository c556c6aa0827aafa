import { beforeAll, describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// A wire server that answers as Mistral does to `prefix: true` (SillyTavern#2557: "the prefill is being echoed ... It's
// returned from the API"; vercel/ai#3256 "automatically remove duplicated content"): the content starts with the
// prefix. An Anthropic client, which puts its prefill before the answer itself, gets only the continuation, whole and
// streamed (the engine takes the repeat off, so a cache keeps the continuation too).
const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt', { name: 'mis', preset: 'mistral', model: 'mistral-small-latest' })]);
beforeAll(() => {
  wire.upstreams.openai.setScript((req) => {
    const last = (req.body as { messages: Array<{ content: string; prefix?: boolean }> }).messages.at(-1)!;
    return { text: last.prefix === true ? `${last.content}Rome"}` : 'new turn', chunks: 8 };
  });
});

describe('anthropic /v1/messages: a prefill Mistral repeats in its answer', () => {
  for (const stream of [false, true]) {
    it(`the client gets only the continuation (${stream ? 'stream' : 'json'})`, async () => {
      const prefill = '{"capital": "';
      const params = { model: 'mis', max_tokens: 64, messages: [{ role: 'user' as const, content: `Capital of Italy? (${stream})` }, { role: 'assistant' as const, content: prefill }] };
      let text = '';
      if (stream) {
        for await (const e of await wire.gw.anthropic().messages.create({ ...params, stream: true })) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      } else {
        const m = await wire.gw.anthropic().messages.create(params);
        text = m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      }
      // What an Anthropic client does with a prefill: prefill + answer.
      expect(prefill + text).toBe('{"capital": "Rome"}');
      expect((wire.upstreams.openai.requests.at(-1)!.body as { messages: Array<{ prefix?: boolean }> }).messages.at(-1)!.prefix).toBe(true);
    });
  }
});
