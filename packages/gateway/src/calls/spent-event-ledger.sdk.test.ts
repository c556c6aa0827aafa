/**
 * What a failed call was billed, as the router's `request:end` says it (`spent`, which core's OpenTelemetry spans
 * carry as `gen_ai.usage.*` and `llmrr.cost_usd`) and as the gateway's ledger row has it, agree: a client that leaves
 * mid-answer (the official openai client, aborted), an upstream that breaks off mid-answer (a mock deployment; a
 * wire-format OpenAI upstream without usage, cut in its reasoning and text or in a tool call's arguments: one estimate
 * of the output, core's `partialUsage`), and embeddings of the wrong `dimensions` (billed, refused). Served over Node,
 * memory stores.
 */
import type { RouterEvents } from '@llmrr/core';
import { startOpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { mockModel } from '../test-support/harness.js';
import { chatChunk, toolCallDelta } from '../test-support/openai-chat-sse.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { leaveStreamAfter } from '../test-support/stalled-client.js';

let gw: SdkGateway;
const ends = new Map<string, RouterEvents['request:end']>();

beforeAll(async () => {
  gw = await servedGateway({
    models: [
      mockModel('slow', { reply: 'one two three four five six seven eight nine ten eleven twelve', chunkDelayMs: 100 }),
      mockModel('broken', { reply: 'one two three four five six seven eight', failures: [{ code: 'provider_unavailable', afterChunks: 3, times: 100 }] }),
    ],
  });
  gw.harness.router.on('request:end', (e) => ends.set(e.requestId, e));
});
afterAll(async () => gw?.close());

/** The failed call's ledger row and `request:end` (of `g`, recorded in `seen`) agree on its tokens and cost. */
async function expectAgree(id: string, g = gw, seen = ends): Promise<RouterEvents['request:end']> {
  const row = await ledgerRow(g, id);
  const end = await vi.waitFor(() => {
    const e = seen.get(id);
    if (!e) throw new Error(`no request:end for ${id} yet`);
    return e;
  });
  expect(end.error).toBeDefined();
  expect(row.status).not.toBe('success');
  expect(row.costUsd).toBeGreaterThan(0);
  expect(end.spent).toBeDefined();
  expect(end.spent!.cost.totalUsd).toBeCloseTo(row.costUsd, 12);
  expect([end.spent!.usage.inputTokens, end.spent!.usage.outputTokens], 'spent vs ledger [input, output]').toEqual([row.inputTokens, row.outputTokens]);
  return end;
}

describe("a failed stream's spend: the request:end event and the ledger agree", () => {
  it('a client that leaves mid-answer', async () => {
    const id = await leaveStreamAfter(gw, 'slow', 3);
    expect((await ledgerRow(gw, id)).status).not.toBe('success');
    await expectAgree(id);
  });

  it('an upstream that breaks off mid-answer', async () => {
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'go' }], stream: true }).withResponse();
    let text = '';
    await expect(
      (async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toThrow();
    expect(text).not.toBe('');
    await expectAgree(response.headers.get('x-request-id')!);
  });
});

describe('a stream cut off without usage: one estimate of what came (reasoning, text, tool names and arguments)', () => {
  const PRICE = { input: 1, output: 2 };
  let up: RawUpstream;
  let cut: SdkGateway;
  const cutEnds = new Map<string, RouterEvents['request:end']>();
  /** What the upstream sends before it breaks off (the socket destroyed, no [DONE], no usage). */
  let frames = '';

  beforeAll(async () => {
    up = await startRawUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frames, () => setTimeout(() => res.destroy(), 50));
    });
    cut = await servedGateway({
      models: [{ name: 'cut', engine: 'openai-compatible', baseURL: `${up.url}/v1`, model: 'cut', apiKey: 'k', price: PRICE, capabilities: ['chat', 'streaming', 'tools'] }],
      routing: { retries: { max: 0 } },
      upstreams: [up],
    });
    cut.harness.router.on('request:end', (e) => cutEnds.set(e.requestId, e));
  });
  afterAll(async () => cut?.close());

  async function cutStream(body: Record<string, unknown>): Promise<string> {
    const { data: stream, response } = await cut
      .openai()
      .chat.completions.create({ model: 'cut', messages: [{ role: 'user', content: 'go' }], stream: true, ...body } as never)
      .withResponse();
    let parts = 0;
    await expect(
      (async () => {
        for await (const _ of stream as unknown as AsyncIterable<unknown>) parts++;
      })(),
    ).rejects.toThrow();
    expect(parts).toBeGreaterThan(0);
    return response.headers.get('x-request-id')!;
  }

  it('reasoning then text (a reasoning model over the OpenAI chat wire): the two as one text', async () => {
    frames = chatChunk({ role: 'assistant', reasoning_content: 'abcde' }) + chatChunk({ content: 'fghij' });
    const end = await expectAgree(await cutStream({}), cut, cutEnds);
    // `abcdefghij`: 10 characters, 3 tokens (not 2 + 2), on the request's estimated 8.
    expect([end.spent!.usage.inputTokens, end.spent!.usage.outputTokens]).toEqual([8, 3]);
    expect(end.spent!.usage.estimated).toBe(true);
  });

  it("a tool call cut in its arguments: the tool's name counts", async () => {
    frames =
      chatChunk({ role: 'assistant', tool_calls: [toolCallDelta(0, '', { id: 'call_a', name: 'get_weather_for_city' })] }) + chatChunk({ tool_calls: [toolCallDelta(0, '{"city":"Os')] });
    const end = await expectAgree(
      await cutStream({ tools: [{ type: 'function', function: { name: 'get_weather_for_city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] }),
      cut,
      cutEnds,
    );
    // `get_weather_for_city{"city":"Os`: 31 characters, 8 tokens.
    expect([end.spent!.usage.inputTokens, end.spent!.usage.outputTokens]).toEqual([42, 8]);
  });
});

describe('billed failed embeddings: the request:end event and the ledger agree', () => {
  it('embeddings of the wrong dimensions (billed, refused): the end event says what was billed', async () => {
    const emb = await startOpenAIWireServer({ script: { ignoresDimensions: true, embeddingDimensions: 8 } });
    const eg = await servedGateway({
      models: [{ name: 'emb', engine: 'openai-compatible', baseURL: emb.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'], price: { input: 1, output: 0 } }],
      routing: { retries: { max: 0 } },
      upstreams: [emb],
    });
    try {
      const embEnds = new Map<string, RouterEvents['request:end']>();
      eg.harness.router.on('request:end', (e) => embEnds.set(e.requestId, e));
      const error = await eg
        .openai()
        .embeddings.create({ model: 'emb', input: 'abcdefgh', dimensions: 4, encoding_format: 'float' })
        .then(
          () => undefined,
          (e: unknown) => e as { status?: number; requestID?: string | null },
        );
      expect(error?.status).toBe(400);
      const end = await expectAgree(error!.requestID!, eg, embEnds);
      expect(end.error?.code).toBe('unsupported');
    } finally {
      await eg.close();
    }
  });
});
