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
