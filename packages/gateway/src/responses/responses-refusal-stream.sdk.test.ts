import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// /v1/responses answers a refusal as a `refusal` content part, as OpenAI does, streamed or not: streamed, with
// OpenAI's refusal events (`response.content_part.added` with a `refusal` part, `response.refusal.delta`,
// `response.refusal.done`), so a client of the official `openai` package that streams a structured output
// (`responses.stream({ text: { format: json_schema } })`) gets from `finalResponse()` the refusal part and an empty
// `output_text`, as the non-streamed answer gives.

const REFUSAL = "I'm sorry, I can't help with that request.";

function refusedSSE(): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-refused', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  return chunk({ role: 'assistant', content: null, refusal: '' }) + chunk({ refusal: "I'm sorry, " }) + chunk({ refusal: "I can't help with that request." }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
}

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { rawSSE: refusedSSE() } });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'json'] }],
    upstreams: [upstream],
  });
});
afterAll(() => gw?.close());

const format = {
  type: 'json_schema' as const,
  name: 'steps',
  strict: true,
  schema: { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' } } }, required: ['steps'], additionalProperties: false },
};

describe('/v1/responses: a streamed refusal', () => {
  it('streamed, the refusal is a refusal content part (as the non-streamed answer), not output_text', async () => {
    upstream.setScript({ rawSSE: refusedSSE() });
    const stream = gw.openai().responses.stream({ model: 'gpt', input: 'Extract the steps to pick a lock.', text: { format } });
    const final = await stream.finalResponse();
    const message = final.output.find((i) => i.type === 'message');
    expect(message).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: REFUSAL }] });
    expect(final.output_text).toBe('');
  });
});

// A chunk that holds both content and a refusal, with log probabilities asked for (`top_logprobs`): the chunk's
// `logprobs.content` tokens are the content's, so they ride on that text's `response.output_text.delta` (and its
// part), as every other delta's do; the refusal (whose `logprobs.refusal` tokens the Responses API's refusal part
// has no field for) follows in its own message. Never an extra, empty message made up to carry the tokens.
function mixedSSE(): string {
  const token = (t: string, logprob: number) => ({ token: t, logprob, bytes: [...Buffer.from(t)], top_logprobs: [{ token: t, logprob, bytes: [...Buffer.from(t)] }] });
  const chunk = (delta: Record<string, unknown>, logprobs: unknown, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-mixed', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta, logprobs, finish_reason: finish }] })}\n\n`;
  return (
    chunk({ role: 'assistant', content: 'Sure', refusal: null }, { content: [token('Sure', -0.1)], refusal: null }) +
    chunk({ content: ' no', refusal: 'I cannot.' }, { content: [token(' no', -0.2)], refusal: [token('I cannot.', -0.3)] }) +
    chunk({}, null, 'stop') +
    'data: [DONE]\n\n'
  );
}

describe('/v1/responses: a streamed refusal with log probabilities', () => {
  it('a chunk with content and a refusal: its tokens on the content\'s output_text.delta; the refusal in its own message; no empty message', async () => {
    upstream.setScript({ rawSSE: mixedSSE() });
    const stream = await gw.openai().responses.create({ model: 'gpt', input: 'x', stream: true, top_logprobs: 1, include: ['message.output_text.logprobs'] });
    const events: Array<{ type: string } & Record<string, unknown>> = [];
    for await (const event of stream) events.push(event as unknown as { type: string } & Record<string, unknown>);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => [e.output_index, e.delta, (e.logprobs as Array<{ token: string }>).map((t) => t.token)]);
    expect(deltas).toEqual([[0, 'Sure', ['Sure']], [0, ' no', [' no']]]);
    expect(events.filter((e) => e.type === 'response.refusal.delta').map((e) => [e.output_index, e.delta])).toEqual([[1, 'I cannot.']]);
    // Two items, in this order: the text's message, the refusal's.
    expect(events.filter((e) => e.type === 'response.output_item.added').map((e) => (e.item as { type: string }).type)).toEqual(['message', 'message']);
    const completed = events.at(-1) as unknown as { type: string; response: { output: Array<{ content: Array<Record<string, unknown>> }> } };
    expect(completed.type).toBe('response.completed');
    expect(completed.response.output.map((m) => m.content.map((p) => p.type))).toEqual([['output_text'], ['refusal']]);
    expect(completed.response.output[0]!.content[0]).toMatchObject({ text: 'Sure no', logprobs: [{ token: 'Sure' }, { token: ' no' }] });
    expect(completed.response.output[1]!.content[0]).toEqual({ type: 'refusal', refusal: 'I cannot.' });
  });
});
