/**
 * A slow client through the Node server with the official openai client: a client that pauses reading (its TCP
 * window fills, the gateway waits for `drained()`) longer than `consumerIdleMs` gets the whole answer or an
 * error the SDK raises (the router gave up on the stream: consumerIdleMs), never a clean end of a truncated
 * answer; the ledger row says `error`, not the client's `aborted`.
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let upstream: OpenAIWireServer;
let gw: SdkGateway;
// About 8 MB of answer in 2 000 chunks: more than the socket buffers between the gateway and a paused client hold.
const TEXT = 'x'.repeat(4000) + ' ';
const SCRIPT = { text: TEXT.repeat(2000), chunks: 2000 };

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: SCRIPT });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 } }],
    routing: { timeouts: { consumerIdleMs: 200 } },
    upstreams: [upstream],
  });
});
afterAll(async () => gw?.close());

describe('a slow SDK client through the Node server', () => {
  it('chat: a client that pauses past consumerIdleMs gets either the whole answer or an error, never a truncated clean end', async () => {
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'go' }], stream: true }).withResponse();
    let chars = 0;
    let finish: string | null | undefined;
    let error: unknown;
    let paused = false;
    try {
      for await (const c of stream) {
        chars += c.choices[0]?.delta.content?.length ?? 0;
        finish ??= c.choices[0]?.finish_reason;
        if (!paused) {
          paused = true;
          await new Promise((r) => setTimeout(r, 1500));
        }
      }
    } catch (e) {
      error = e;
    }
    // Either it completed, or the SDK raised: a clean end without finish_reason is a silent truncation.
    expect({ chars, finish: finish ?? null, raised: error !== undefined }).toSatisfy((o: { chars: number; finish: string | null; raised: boolean }) => o.raised || (o.finish === 'stop' && o.chars === TEXT.length * 2000));
    if (error !== undefined) {
      // What it raised says why, and the call is an error on the ledger (the client never left).
      expect((error as Error).message).toMatch(/consumerIdleMs \(200 ms\)/);
      expect(await gw.ledger.get(response.headers.get('x-request-id')!)).toMatchObject({ status: 'error', errorCode: 'timeout', stream: true });
    }
  });
});
