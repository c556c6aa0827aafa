/**
 * A cut-off stream's tool call whose name the upstream repeats on every piece (the openai-compatible decoder passes a
 * repeated name on, as it must for a name that comes late): the name counts once, so the ledger row and `request:end`
 * `spent` (the span) agree (core's `partialUsage` fed the same text by the gateway's `ProducedText` and the router's
 * `StreamAccumulator`; the ledger billed the name on every piece). Served gateway, official openai client, a raw
 * upstream that breaks off without usage.
 */
import type { RouterEvents } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { chatChunk, toolCallDelta } from '../test-support/openai-chat-sse.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const START = { id: 'call_a', name: 'get_weather_for_city' };
let up: RawUpstream;
let gw: SdkGateway;
const ends = new Map<string, RouterEvents['request:end']>();

beforeAll(async () => {
  up = await startRawUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // The name on every piece of the one call; then the upstream breaks off (no usage, no [DONE]).
    const frames =
      chatChunk({ role: 'assistant', tool_calls: [toolCallDelta(0, '{"ci', START)] }) +
      chatChunk({ tool_calls: [toolCallDelta(0, 'ty":"O', START)] }) +
      chatChunk({ tool_calls: [toolCallDelta(0, 'slo', START)] });
    res.write(frames, () => setTimeout(() => res.destroy(), 50));
  });
  gw = await servedGateway({
    models: [{ name: 'cut', engine: 'openai-compatible', baseURL: `${up.url}/v1`, model: 'cut', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'tools'] }],
    routing: { retries: { max: 0 } },
    upstreams: [up],
  });
  gw.harness.router.on('request:end', (e) => ends.set(e.requestId, e));
});
afterAll(async () => gw?.close());

describe('one estimate, one text', () => {
  it('a tool call whose name comes on every piece, cut off: request:end spent and the ledger row agree', async () => {
    const { data: stream, response } = await gw
      .openai()
      .chat.completions.create({
        model: 'cut',
        messages: [{ role: 'user', content: 'go' }],
        stream: true,
        tools: [{ type: 'function', function: { name: START.name, parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      })
      .withResponse();
    let parts = 0;
    await expect(
      (async () => {
        for await (const _ of stream) parts++;
      })(),
    ).rejects.toThrow();
    expect(parts).toBeGreaterThan(0);
    const id = response.headers.get('x-request-id')!;
    const row = await ledgerRow(gw, id);
    const end = await vi.waitFor(() => {
      const e = ends.get(id);
      if (!e) throw new Error('no request:end yet');
      return e;
    });
    expect(row.status).not.toBe('success');
    expect(end.spent).toBeDefined();
    // `get_weather_for_city{"city":"Oslo` is 33 characters: 9 tokens, once. The ledger says?
    expect({ spent: end.spent!.usage.outputTokens, ledger: row.outputTokens }).toEqual({ spent: 9, ledger: 9 });
    expect(end.spent!.cost.totalUsd).toBeCloseTo(row.costUsd, 12);
  });
});
