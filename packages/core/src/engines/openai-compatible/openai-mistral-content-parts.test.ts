import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../spec/index.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

/**
 * Mistral's reasoning models (magistral-*, and mistral-small / mistral-medium with `reasoning_effort`) send the
 * message content as a list of chunks: `{type:"thinking", thinking:[{type:"text", text}]}` then `{type:"text", text}`
 * (docs.mistral.ai, "Reasoning"); a stream may go on with plain string fragments once the thinking ends. The
 * thinking is read as the reasoning and the text as the answer, in a stream and in a JSON answer. A chunk as the
 * API streams it (model magistral-medium-2509).
 */
const chunk = (content: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'cmpl-1', object: 'chat.completion.chunk', created: 1772351733, model: 'magistral-medium-2509', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

const MAGISTRAL_STREAM =
  chunk([{ type: 'thinking', thinking: [{ type: 'text', text: 'The user greets me.' }] }]) +
  chunk([{ type: 'text', text: 'Bonjour' }]) +
  chunk('', 'stop') +
  'data: [DONE]\n\n';

const fixture = useOpenAIWireServer();

describe('Mistral reasoning models (content as a list of chunks) on the mistral preset', () => {
  it('a stream gives the thinking as reasoning and the answer as text, not an invalid_response error', async () => {
    fixture.server.setScript({ rawSSE: MAGISTRAL_STREAM });
    const parts: StreamPart[] = [];
    for await (const p of fixture.engine({ preset: 'mistral', apiKey: 'm', model: 'magistral-medium-latest' }).stream({ messages: [{ role: 'user', content: 'Salut' }] })) {
      parts.push(p);
    }
    const error = parts.find((p) => p.type === 'error');
    expect(error, error?.type === 'error' ? error.error.message : undefined).toBeUndefined();
    expect(parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('')).toBe('Bonjour');
    expect(parts.map((p) => (p.type === 'reasoning-delta' ? p.delta : '')).join('')).toBe('The user greets me.');
  });

  it('reads thinking lists, then text items and plain string fragments, in order', async () => {
    fixture.server.setScript({
      rawSSE:
        chunk([{ type: 'thinking', thinking: [{ type: 'text', text: 'Hm, ' }] }]) +
        chunk([{ type: 'thinking', thinking: [{ type: 'text', text: 'a greeting.' }, { type: 'reference', reference_ids: [1] }], closed: true }]) +
        chunk([{ type: 'text', text: 'Bon' }]) +
        chunk('jour') +
        chunk(' !', 'stop') +
        'data: [DONE]\n\n',
    });
    const parts: StreamPart[] = [];
    for await (const p of fixture.engine({ preset: 'mistral', apiKey: 'm', model: 'mistral-small-latest' }).stream({ messages: [{ role: 'user', content: 'Salut' }] })) {
      parts.push(p);
    }
    const deltas = parts.flatMap((p) => (p.type === 'reasoning-delta' ? [`r:${p.delta}`] : p.type === 'text-delta' ? [`t:${p.delta}`] : []));
    expect(deltas).toEqual(['r:Hm, ', 'r:a greeting.', 't:Bon', 't:jour', 't: !']);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('generate reads the same answer', async () => {
    fixture.server.setScript({
      json: {
        id: 'cmpl-2',
        object: 'chat.completion',
        model: 'magistral-medium-2509',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'The user greets me.' }] }, { type: 'text', text: 'Bonjour' }] },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
      },
    });
    const r = await fixture.engine({ preset: 'mistral', apiKey: 'm', model: 'magistral-medium-latest' }).generate({ messages: [{ role: 'user', content: 'Salut' }] });
    expect(r.text).toBe('Bonjour');
    expect(r.reasoning).toBe('The user greets me.');
  });
});
