/**
 * `halfOpenMaxProbes` under concurrency, against a real OpenAI-wire server. The router never refuses a request only
 * because circuits are open (docs/core/router.md, Candidates): with another deployment fit for the request, a half-open
 * deployment admits at most `halfOpenMaxProbes` probes at once and the other requests go to the other deployment; with
 * no alternative, the one left is tried anyway, so the breaker does not shed load and the whole burst reaches it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';

function completion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

interface ModelCounters {
  failing: boolean;
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

let server: LoopbackHttp | undefined;
let baseURL = '';
const counters = new Map<string, ModelCounters>();
function counter(model: string): ModelCounters {
  let c = counters.get(model);
  if (!c) counters.set(model, (c = { failing: false, requests: 0, inFlight: 0, maxInFlight: 0 }));
  return c;
}

beforeAll(async () => {
  server = await startLoopbackHttp((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const model = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string }).model;
      const c = counter(model);
      c.requests++;
      if (c.failing) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'down', type: 'server_error' } }));
        return;
      }
      c.inFlight++;
      c.maxInFlight = Math.max(c.maxInFlight, c.inFlight);
      // A slow provider: every answer takes a while, so the burst overlaps.
      setTimeout(() => {
        c.inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion(model));
      }, 150);
    });
  });
  baseURL = `${server.url}/v1`;
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => counters.clear());

const breaker = { enabled: true, failureThreshold: 2, cooldownMs: 50, halfOpenMaxProbes: 1, successThreshold: 1 };

describe('half-open circuit under concurrency', () => {
  it('with another deployment fit, only halfOpenMaxProbes (1) probes at once reach the half-open one', async () => {
    const { router } = openAIWireRouter(
      [
        { name: 'primary', engine: 'openai-compatible', model: 'model-primary', baseURL, apiKey: 'sk-test', priority: 1 },
        { name: 'backup', engine: 'openai-compatible', model: 'model-backup', baseURL, apiKey: 'sk-test', priority: 2 },
      ],
      { retries: { max: 0, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: breaker },
    );
    const states: string[] = [];
    router.on('circuit', (e: { deployment: string; to: string }) => states.push(`${e.deployment}:${e.to}`));
    counter('model-primary').failing = true;
    // Two failures of the primary (each falls over to the backup) open its circuit.
    await router.generate('a');
    await router.generate('b');
    expect(states).toEqual(['primary:open']);
    await new Promise((r) => setTimeout(r, 80)); // past the cooldown: half-open on the next admission
    counters.clear();
    const burst = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => router.generate(`probe ${i}`)));
    expect(burst.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(counter('model-primary').requests).toBe(1);
    expect(counter('model-primary').maxInFlight).toBe(1);
    expect(counter('model-backup').requests).toBe(7);
    expect(states).toEqual(['primary:open', 'primary:half-open', 'primary:closed']);
    await router.close();
  });

  it('with no alternative, the half-open deployment is tried anyway: the burst is not shed', async () => {
    const { router } = openAIWireRouter(
      [{ name: 'only', engine: 'openai-compatible', model: 'model-only', baseURL, apiKey: 'sk-test', priority: 1 }],
      { retries: { max: 0, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: breaker },
    );
    const states: string[] = [];
    router.on('circuit', (e: { to: string }) => states.push(e.to));
    counter('model-only').failing = true;
    await expect(router.generate('a')).rejects.toMatchObject({ code: 'provider_error' });
    await expect(router.generate('b')).rejects.toMatchObject({ code: 'provider_error' });
    expect(states).toEqual(['open']);
    await new Promise((r) => setTimeout(r, 80));
    counters.clear();
    const burst = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => router.generate(`probe ${i}`)));
    // Documented: no request is refused only because circuits are open; every one reaches the sole deployment.
    expect(burst.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(counter('model-only').requests).toBe(8);
    expect(counter('model-only').maxInFlight).toBe(8);
    await router.close();
  });
});
