import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { until } from '../../test/async.test-helpers.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { startLoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { useStartedServer } from '../../test/started-server.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

// GeminiEngine.countTokens options: `local` makes no network I/O; `signal` cancels the image downloads.

let server: GeminiWireServer;
const held: Array<{ closed: boolean }> = [];
const images = useStartedServer('image server', () =>
  startLoopbackHttp((req, res) => {
    // Never answers: a download the count's signal must cancel.
    const entry = { closed: false };
    held.push(entry);
    req.resume();
    res.on('close', () => {
      entry.closed = true;
    });
  }),
);

beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  server.requests.length = 0;
  held.length = 0;
});

const exactEngine = () =>
  createGeminiEngine(
    ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL: server.url, apiKey: 'gm-test', options: { exactTokenCount: true, allowPrivateImageUrls: true } }),
    defaultEngineContext({}),
  );

const withImage = (): GenerateRequest => ({
  messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image', url: `${images().url}/slow.png` }] }],
});

describe('GeminiEngine.countTokens options', () => {
  it('declares a remote count with exactTokenCount; local: true answers the estimate with no request and no download', async () => {
    const engine = exactEngine();
    expect(engine.countTokensRemote).toBe(true);
    const local = await engine.countTokens(withImage(), { local: true });
    expect(local).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(0);
    expect(held).toHaveLength(0);
  });

  it("an abort cancels the prompt's image download and rejects with aborted", async () => {
    const controller = new AbortController();
    const counting = Promise.resolve(exactEngine().countTokens(withImage(), { signal: controller.signal })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await until(() => held.length === 1, 'the image download');
    controller.abort();
    const e = await counting;
    expect(LLMError.isInstance(e) && e.code).toBe('aborted');
    await until(() => held[0]!.closed, 'the image download to close');
    expect(server.requests).toHaveLength(0);
  });

  it('calls onProviderRequest right before :countTokens goes out, never while it downloads the image URLs', async () => {
    const engine = exactEngine();
    expect(engine.countTokensReportsRequest).toBe(true);
    const seen: number[] = [];
    const onProviderRequest = () => seen.push(server.requests.length);
    expect(await engine.countTokens({ messages: [{ role: 'user', content: 'hello' }] }, { onProviderRequest })).toBeGreaterThan(0);
    expect(seen).toEqual([0]);
    expect(server.requests.map((q) => q.rpc)).toEqual(['countTokens']);
    // A download that never ends, then the count's time limit: Gemini was never asked, nor was the hook called.
    const e = await Promise.resolve(engine.countTokens(withImage(), { signal: AbortSignal.timeout(200), onProviderRequest })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(LLMError.isInstance(e) && e.code).toBe('timeout');
    expect(seen).toEqual([0]);
    expect(server.requests).toHaveLength(1);
  });
});
