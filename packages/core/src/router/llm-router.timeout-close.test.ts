// Every HTTP engine's upstream request is closed when a non-streamed call times out at firstTokenMs
// (the router's bounded signal reaches the engine's fetch), against a local server that never answers.
import type { IncomingMessage } from 'node:http';
import { expect, it } from 'vitest';
import '../engines/index.js';
import { startLoopbackHttp } from '../test/loopback-http.test-helpers.js';
import { LLMRouter } from './llm-router.js';

for (const engine of ['anthropic', 'openai-compatible', 'gemini'] as const) {
  it(`${engine}: a generate that times out at firstTokenMs closes its upstream request`, async () => {
    const held: Array<{ req: IncomingMessage; closed: boolean }> = [];
    const server = await startLoopbackHttp((req, res) => {
      const entry = { req, closed: false };
      held.push(entry);
      req.resume();
      res.on('close', () => { entry.closed = true; });
    });
    const url = server.url;
    // The request must reach the server before firstTokenMs fires (else there is no upstream request to see
    // closed), which a first fetch on a loaded machine can take a few hundred ms to do: 1.5 s leaves it room.
    const r = new LLMRouter({ models: [{ name: 'm', engine, model: 'x', baseURL: engine === 'openai-compatible' ? url + '/v1' : url, apiKey: 'k', timeouts: { firstTokenMs: 1_500 } }], routing: { retries: { max: 0 } } });
    const e = await r.generate('hello', { model: 'm' }).then(() => undefined, (x: unknown) => x);
    expect((e as { code?: string }).code).toBe('timeout');
    // Wait up to 10 s for the close (the loop ends as soon as it is seen).
    for (let i = 0; i < 400 && !(held[0]?.closed); i++) await new Promise((res) => setTimeout(res, 25));
    const closed = held[0]?.closed;
    await r.close();
    await server.close();
    expect(held.length).toBe(1);
    expect(closed).toBe(true);
  }, 15_000);
}
