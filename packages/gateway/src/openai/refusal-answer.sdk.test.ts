import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A structured-output request (`response_format: json_schema`) that the model refuses: OpenAI answers
// `message: { content: null, refusal: "I'm sorry..." }` (its Structured Outputs guide, "Refusals"), streamed as
// `delta.refusal`. The gateway answers a refusal the same way on /v1/chat/completions (the official `openai` client's
// `chat.completions.parse()` then gives `message.refusal` and `parsed: null` instead of JSON-parsing the refusal),
// streamed or not, and again from its exact cache; /v1/responses answers it as a `refusal` content part.

const REFUSAL = "I'm sorry, I can't help with that request.";

const refusedJson = {
  json: {
    id: 'chatcmpl-refused',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: REFUSAL }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
  },
};

/** OpenAI's stream of a refusal: the role with `content: null`, the refusal in pieces, then the finish and usage. */
function refusedSSE(): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-refused', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const usage = `data: ${JSON.stringify({ id: 'chatcmpl-refused', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [], usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 } })}\n\n`;
  return chunk({ role: 'assistant', content: null, refusal: '' }) + chunk({ refusal: "I'm sorry, " }) + chunk({ refusal: "I can't help with that request." }) + chunk({}, 'stop') + usage + 'data: [DONE]\n\n';
}

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: refusedJson });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'json'] }],
    cache: { exact: { enabled: true } },
    upstreams: [upstream],
  });
});
afterAll(() => gw?.close());

function request(prompt: string) {
  return {
    model: 'gpt',
    messages: [{ role: 'user' as const, content: prompt }],
    response_format: {
      type: 'json_schema' as const,
      json_schema: { name: 'steps', strict: true, schema: { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' } } }, required: ['steps'], additionalProperties: false } },
    },
  };
}

describe('/v1/chat/completions: a refusal from an OpenAI-compatible deployment', () => {
  it('create(): the refusal is message.refusal, content null (as OpenAI answers)', async () => {
    upstream.setScript(refusedJson);
    const completion = await gw.openai().chat.completions.create(request('Extract the steps to pick a lock.'));
    expect(completion.choices[0]!.message).toMatchObject({ content: null, refusal: REFUSAL });
  });

  it('parse(): resolves with message.refusal and parsed null, as against OpenAI', async () => {
    upstream.setScript(refusedJson);
    const completion = await gw.openai().chat.completions.parse(request('Extract the steps to open a safe.'));
    expect(completion.choices[0]!.message.refusal).toBe(REFUSAL);
    expect(completion.choices[0]!.message.parsed).toBeNull();
  });

  it('streamed: the refusal comes as delta.refusal (finalChatCompletion has it as message.refusal, no content)', async () => {
    upstream.setScript({ rawSSE: refusedSSE() });
    const stream = gw.openai().chat.completions.stream(request('Extract the steps to hotwire a car.'));
    const deltas: Array<Record<string, unknown>> = [];
    stream.on('chunk', (c) => c.choices[0] && deltas.push(c.choices[0].delta as Record<string, unknown>));
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]!.message.refusal).toBe(REFUSAL);
    expect(completion.choices[0]!.message.content ?? null).toBeNull();
    expect(deltas.some((d) => typeof d.content === 'string' && d.content !== '')).toBe(false);
  });

  it('the exact cache gives a refusal back as a refusal, answered and streamed', async () => {
    upstream.setScript(refusedJson);
    const ask = request('Extract the steps to forge a signature.');
    await gw.openai().chat.completions.create(ask);
    const sent = upstream.requests.length;
    const again = await gw.openai().chat.completions.create(ask);
    expect(upstream.requests.length).toBe(sent);
    expect(again.choices[0]!.message).toMatchObject({ content: null, refusal: REFUSAL });
    const replayed = await gw.openai().chat.completions.stream(ask).finalChatCompletion();
    expect(upstream.requests.length).toBe(sent);
    expect(replayed.choices[0]!.message.refusal).toBe(REFUSAL);
    expect(replayed.choices[0]!.message.content ?? null).toBeNull();
  });
});

describe('/v1/responses: a refusal from an OpenAI-compatible deployment', () => {
  it('the message holds a refusal content part, as OpenAI answers', async () => {
    upstream.setScript(refusedJson);
    const response = await gw.openai().responses.create({ model: 'gpt', input: 'Extract the steps to pick a lock, as a list.' });
    const message = response.output.find((i) => i.type === 'message');
    expect(message).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: REFUSAL }] });
    expect(response.output_text).toBe('');
  });
});
