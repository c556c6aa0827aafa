import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from '../router/llm-router.js';
import { instrumentRouterWith } from '../telemetry/otel.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';

// An API key read from a multi-line file or secret manager ends with a line break. In the config ("${VAR}", apiKey)
// it is refused at load (src/config/load.test.ts); read at call time (apiKeyEnv, OPENAI_API_KEY...), fetch refuses
// the header with an error quoting it - which must reach no error message, cause, log or span.
const SECRET = 'sk-HEADER-SECRET-KEY';

let openai: OpenAIWireServer;
let anthropic: AnthropicWireServer;
beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAIWireServer(), startAnthropicWireServer()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close()]);
});

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

/** Every text an error carries: message, details and its cause chain. */
function textOf(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    parts.push(c instanceof Error ? `${c.message} ${c.stack ?? ''}` : String(c));
    if (LLMError.isInstance(c)) parts.push(JSON.stringify(c.details ?? null));
  }
  return parts.join('\n');
}

it('a 10 000-character API key (an Azure AD token with many claims) is sent as it is', async () => {
  const token = `eyJ${'a'.repeat(10_000)}`;
  const router = new LLMRouter({ models: [{ name: 'm', engine: 'openai-compatible', model: 'some-model', baseURL: openai.baseURL, apiKey: token }] }, { env: {} });
  try {
    expect((await router.generate('hello')).text.length).toBeGreaterThan(0);
    expect(openai.requests.at(-1)?.headers.authorization).toBe(`Bearer ${token}`);
  } finally {
    await router.close();
  }
});

describe('an API key that cannot be sent as a header', () => {
  it.each([
    ['openai-compatible', `${SECRET}\nsecond-line`],
    ['openai-compatible', `${SECRET}\u20ac`],
    ['anthropic', `${SECRET}\r\nsecond-line`],
    // undici refuses the other control characters only when it dispatches the request (UND_ERR_INVALID_ARG).
    ['openai-compatible', `${SECRET}\u001bx`],
    ['anthropic', `${SECRET}\u007fx`],
  ])('%s: the call fails with config_invalid quoting neither the key nor the fetch error, and so does its span', async (engine, key) => {
    exporter.reset();
    const baseURL = engine === 'anthropic' ? anthropic.url : openai.baseURL;
    const router = new LLMRouter({ models: [{ name: 'm', engine, model: 'x', baseURL, apiKeyEnv: 'MY_KEY' }] }, { env: { MY_KEY: key } });
    const stop = instrumentRouterWith(api, router, { tracer: provider.getTracer('header-value-secret') });
    let error: unknown;
    try {
      await router.generate('hello', { requestId: 'r1' });
    } catch (e) {
      error = e;
    } finally {
      stop();
      await router.close();
    }
    expect(LLMError.isInstance(error)).toBe(true);
    expect([(error as LLMError).code, (error as LLMError).isRetryable]).toEqual(['config_invalid', false]);
    expect((error as LLMError).message).toContain('A request header could not be sent');
    expect(textOf(error)).not.toContain('HEADER-SECRET');
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const span = spans.find((s) => s.kind === api.SpanKind.CLIENT);
    expect(span?.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(JSON.stringify(spans.map((s) => [s.status, s.attributes, s.events]))).not.toContain('HEADER-SECRET');
  });

  it('a stream ends with the same error part', async () => {
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'openai-compatible', model: 'x', baseURL: openai.baseURL, apiKeyEnv: 'MY_KEY' }] }, { env: { MY_KEY: `${SECRET}\nsecond-line` } });
    const parts: unknown[] = [];
    try {
      for await (const part of router.stream('hello')) parts.push(part);
    } finally {
      await router.close();
    }
    const last = parts.at(-1) as { type: string; error?: LLMError };
    expect(last.type).toBe('error');
    expect(last.error?.code).toBe('config_invalid');
    expect(textOf(last.error)).not.toContain('HEADER-SECRET');
  });
});
