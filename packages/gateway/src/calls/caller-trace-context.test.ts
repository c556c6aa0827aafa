/**
 * `GatewayOptions.callerTraceContext`: every model route (chat, streamed chat, completions, responses, messages,
 * embeddings) runs its call inside it, with the request's headers, on the Node fast path and through `fetch` alike, so
 * that the router's `request:start` (where `instrumentRouter` starts the request span) sees the caller's trace context.
 * Core's `callerTraceContext` (OpenTelemetry, tested with the SDK in core) is such a function; here an
 * AsyncLocalStorage stands in for OpenTelemetry's context. Without the option the routes are the plain routes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallerTraceContext } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, post, serveWithKey, type Harness } from '../test-support/harness.js';
import { inCallerTrace, type ModelRoute } from './model-route.js';

const storage = new AsyncLocalStorage<string>();
/** The caller's `traceparent` as the context of the call (the real one extracts it with the W3C propagator). */
const fakeTrace: CallerTraceContext = (headers, call) => storage.run(headers.get('traceparent') ?? 'none', call);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CALLS: Array<[string, string, unknown]> = [
  ['chat', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }],
  ['streamed chat', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }], stream: true }],
  ['completion', '/v1/completions', { model: 'mock', prompt: 'hi' }],
  ['responses', '/v1/responses', { model: 'mock', input: 'hi' }],
  ['messages', '/v1/messages', { model: 'mock', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }],
  ['embeddings', '/v1/embeddings', { model: 'mock', input: 'hi' }],
];

/** The token count routes: no model call, but the router's count (`count:start`, where `instrumentRouter` starts its span). */
const COUNTS: Array<[string, string, unknown]> = [
  ['messages count_tokens', '/v1/messages/count_tokens', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }],
  ['responses input_tokens', '/v1/responses/input_tokens', { model: 'mock', input: 'hi' }],
];

describe('callerTraceContext: the model routes run in their caller trace context', () => {
  it('each model route, served over Node and through fetch: the router call starts inside it, with the request headers', async () => {
    h = await createHarness({ stores: 'memory', gateway: { callerTraceContext: fakeTrace } });
    const seen = new Map<string, string | undefined>();
    h.router.on('request:start', (e) => seen.set(e.requestId, storage.getStore()));
    const { secret, served } = await serveWithKey(h);
    try {
      for (const [name, path, body] of CALLS) {
        for (const via of ['node', 'fetch'] as const) {
          const traceparent = `00-${'a'.repeat(32)}-${(name.length + (via === 'node' ? 100 : 200)).toString(16).padStart(16, '0')}-01`;
          const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json', traceparent };
          const res = via === 'node' ? await fetch(`${served.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) }) : await post(h.gateway, path, body, headers);
          expect(res.status, `${name} via ${via}`).toBe(200);
          await res.text();
          const id = res.headers.get('x-request-id')!;
          expect(seen.get(id), `${name} via ${via}`).toBe(traceparent);
        }
      }
      // Nothing leaks out of a call: the listener outside any request sees no context.
      expect(storage.getStore()).toBeUndefined();
    } finally {
      await served.close(1000);
    }
  });

  it('each token count route, served over Node and through fetch: the router count starts inside it, with the request id, tenant and endpoint', async () => {
    h = await createHarness({ stores: 'memory', gateway: { callerTraceContext: fakeTrace } });
    const seen = new Map<string, [string | undefined, Record<string, unknown>]>();
    h.router.on('count:start', (e) => seen.set(e.requestId, [storage.getStore(), e.metadata]));
    const { secret, served } = await serveWithKey(h);
    try {
      for (const [name, path, body] of COUNTS) {
        for (const via of ['node', 'fetch'] as const) {
          const traceparent = `00-${'c'.repeat(32)}-${(name.length + (via === 'node' ? 100 : 200)).toString(16).padStart(16, '0')}-01`;
          const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json', traceparent };
          const res = via === 'node' ? await fetch(`${served.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) }) : await post(h.gateway, path, body, headers);
          expect(res.status, `${name} via ${via}`).toBe(200);
          await res.text();
          const id = res.headers.get('x-request-id')!;
          expect(seen.get(id), `${name} via ${via}`).toEqual([traceparent, expect.objectContaining({ tenant: expect.any(String), endpoint: path })]);
        }
      }
      expect(storage.getStore()).toBeUndefined();
    } finally {
      await served.close(1000);
    }
  });

  it('without the option: the route is the plain route (no wrapper, nothing per request)', async () => {
    const route: ModelRoute = () => Promise.reject(new Error('not called'));
    expect(inCallerTrace(undefined, route)).toBe(route);
    h = await createHarness({ stores: 'memory' });
    const seen: Array<string | undefined> = [];
    h.router.on('request:start', () => seen.push(storage.getStore()));
    const { secret, served } = await serveWithKey(h);
    try {
      const res = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', traceparent: `00-${'b'.repeat(32)}-${'1'.repeat(16)}-01` },
        body: JSON.stringify(CALLS[0]![2]),
      });
      expect(res.status).toBe(200);
      await res.text();
      expect(seen).toEqual([undefined]);
    } finally {
      await served.close(1000);
    }
  });
});
