import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGeminiEngine } from '../../engines/gemini/create-gemini-engine.js';
import type { GenerateRequest } from '../../spec/index.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { LLMRouter } from '../llm-router.js';

/**
 * The Gemini engine downloads the prompt's http(s) image URLs inside the attempt, before it asks Gemini; it reports
 * when its request goes out (`reportsProviderRequest`, `CallOptions.onProviderRequest`). An attempt that fails before
 * that (the router's firstTokenMs running out while the client's image host hangs) is released, not failed, on the
 * deployment's circuit: the client's image URL says nothing about Gemini. A failure once Gemini was asked still counts.
 */
let server: GeminiWireServer;
/** The client's image host: accepts connections, never answers. */
let imageHost: LoopbackHttp | undefined;
let imageUrl: string;

beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
  imageHost = await startLoopbackHttp(() => {});
  imageUrl = `${imageHost.url}/cat.png`;
});
afterAll(async () => {
  // Its connections are never answered: close() ends them.
  await imageHost?.close();
  await server?.close();
});

function router() {
  const r = new LLMRouter(
    {
      // The image host is on 127.0.0.1: the deployment opts in to private image URLs.
      models: [{ name: 'gem', engine: 'gemini', model: 'gemini-2.5-flash', baseURL: server.url, apiKey: 'gm-test', options: { allowPrivateImageUrls: true } }],
      routing: { strategy: 'priority', retries: { max: 0 }, timeouts: { firstTokenMs: 300 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } },
    },
    { engineFactories: { gemini: createGeminiEngine }, env: {} },
  );
  const transitions: string[] = [];
  r.on('circuit', (e) => transitions.push(`${e.from}->${e.to}`));
  return { r, transitions };
}

const withImage = (): GenerateRequest => ({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', url: imageUrl }] }] });

describe("a client image URL that hangs says nothing about the Gemini deployment", () => {
  it("a timeout while the engine downloads the prompt's image does not open the circuit of a provider never asked", async () => {
    const { r, transitions } = router();
    const before = server.requests.length;
    for (let i = 0; i < 2; i++) await expect(r.generate(withImage())).rejects.toMatchObject({ code: 'timeout' });
    // Gemini was never asked, and its circuit stays closed for every other caller.
    expect(server.requests.length).toBe(before);
    expect(transitions).toEqual([]);
    expect(r.stats()['gem']!.circuit).toBe('closed');
    await r.close();
  });

  it('nor does it for a stream', async () => {
    const { r, transitions } = router();
    const before = server.requests.length;
    for (let i = 0; i < 2; i++) {
      const stream = r.stream(withImage());
      const types: string[] = [];
      for await (const part of stream) types.push(part.type);
      expect(types.at(-1)).toBe('error');
      await expect(stream.result).rejects.toMatchObject({ code: 'timeout' });
    }
    expect(server.requests.length).toBe(before);
    expect(transitions).toEqual([]);
    await r.close();
  });

  it('a timeout once Gemini was asked still counts against it', async () => {
    const { r, transitions } = router();
    server.enqueue({ hang: true }, { hang: true });
    const hello: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }] };
    for (let i = 0; i < 2; i++) await expect(r.generate(hello)).rejects.toMatchObject({ code: 'timeout' });
    expect(transitions).toEqual(['closed->open']);
    await r.close();
  });
});
