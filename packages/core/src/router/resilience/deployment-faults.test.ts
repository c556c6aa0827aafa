/**
 * What a failure says, against real wire servers: a request this deployment cannot serve (`unsupported`, refused
 * by the engine before sending) falls over without counting against the deployment's health; an account's or
 * project's state that providers send as HTTP 400 (Gemini's free tier unavailable in the region, Anthropic's
 * credit balance, OpenAI's unverified organisation) or as a quota error (Gemini's depleted prepayment, OpenAI's
 * `insufficient_quota` inside a stream) falls over to the next deployment without retrying; a genuinely invalid
 * request still stops at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicEngine } from '../../engines/anthropic/index.js';
import { createGeminiEngine } from '../../engines/gemini/create-gemini-engine.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../../test/anthropic-wire-server.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { startOpenAIWireServer, type OpenAIWireError } from '../../test/openai-wire-server.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { LLMRouter } from '../llm-router.js';

/** Gemini's documented 400 for a free-tier project in a region without the free tier. */
const FREE_TIER_UNAVAILABLE = {
  status: 400,
  rpcStatus: 'FAILED_PRECONDITION',
  message: 'Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.',
};

/** Gemini's answer once a prepay billing account's balance is 0 (every key on it, until topped up). */
const PREPAYMENT_DEPLETED = {
  status: 429,
  rpcStatus: 'RESOURCE_EXHAUSTED',
  message:
    'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing. Learn more at https://ai.google.dev/gemini-api/docs/billing#prepay. ',
};

let server: GeminiWireServer;
beforeAll(async () => {
  server = await startGeminiWireServer({
    apiKey: 'gm-test',
    // One model name per project state.
    handler: (r) => {
      if (r.model === 'models/gemini-2.0-flash') return { error: FREE_TIER_UNAVAILABLE };
      if (r.model === 'models/gemini-2.0-flash-lite') return { error: PREPAYMENT_DEPLETED };
      if (r.model === 'models/gemini-2.5-pro') return { error: { status: 400, rpcStatus: 'INVALID_ARGUMENT', message: 'Invalid value at \'generation_config.temperature\'' } };
      return {};
    },
  });
});
afterAll(async () => {
  await server.close();
});

function geminiRouter(models: Array<{ name: string; model: string }>): LLMRouter {
  return new LLMRouter(
    {
      models: models.map((m, i) => ({ ...m, engine: 'gemini', baseURL: server.url, apiKey: 'gm-test', priority: i + 1 })),
      routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
    },
    { engineFactories: { gemini: createGeminiEngine }, env: {}, sleep: async () => {} },
  );
}

function requestsFor(model: string): number {
  return server.requests.filter((r) => r.model === `models/${model}`).length;
}

/** A tool whose schema Gemini cannot express (recursive): the engine refuses it with `unsupported`, before sending anything. */
const recursiveTool = {
  name: 'walk',
  parameters: { $ref: '#/$defs/Node', $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } } },
};

describe('a request the engine refuses as unsupported says nothing about the deployment', () => {
  it('does not open the circuit of a Gemini deployment that never received the request', async () => {
    const router = new LLMRouter(
      {
        models: [{ name: 'gem', engine: 'gemini', model: 'gemini-2.5-flash', baseURL: server.url, apiKey: 'gm-test' }],
        routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } },
      },
      { engineFactories: { gemini: createGeminiEngine }, env: {} },
    );
    const transitions: string[] = [];
    router.on('circuit', (e) => transitions.push(`${e.from}->${e.to}`));
    const before = server.requests.length;
    for (let i = 0; i < 2; i++) {
      await expect(router.generate({ messages: [{ role: 'user', content: 'hi' }], tools: [recursiveTool] })).rejects.toMatchObject({ code: 'unsupported' });
    }
    // Nothing reached the provider: the client's schema was refused locally.
    expect(server.requests.length).toBe(before);
    expect(transitions).toEqual([]);
    expect(router.stats()['gem']!.circuit).toBe('closed');
    // The deployment still serves requests it supports.
    expect((await router.generate({ messages: [{ role: 'user', content: 'hi' }] })).deployment).toBe('gem');
    await router.close();
  });

  it('still falls over to a deployment that supports the request', async () => {
    const anthropic = await startAnthropicWireServer();
    try {
      const router = new LLMRouter(
        {
          models: [
            { name: 'gem', engine: 'gemini', model: 'gemini-2.5-flash', baseURL: server.url, apiKey: 'gm-test', priority: 1 },
            { name: 'claude', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: anthropic.url, apiKey: 'k', priority: 2 },
          ],
          routing: { strategy: 'priority', retries: { max: 0 } },
        },
        { engineFactories: { gemini: createGeminiEngine, anthropic: createAnthropicEngine }, env: {} },
      );
      const r = await router.generate({ messages: [{ role: 'user', content: 'hi' }], tools: [recursiveTool] });
      expect(r.deployment).toBe('claude');
      expect(r.attempts.map((a) => [a.deployment, a.errorCode])).toEqual([
        ['gem', 'unsupported'],
        ['claude', undefined],
      ]);
      await router.close();
    } finally {
      await anthropic.close();
    }
  });
});

describe('Gemini: a project\'s state is not the request\'s fault', () => {
  it('400 FAILED_PRECONDITION (free tier not available in the region) falls over to the next deployment, without retrying', async () => {
    const before = requestsFor('gemini-2.0-flash');
    const router = geminiRouter([
      { name: 'free', model: 'gemini-2.0-flash' },
      { name: 'paid', model: 'gemini-2.5-flash' },
    ]);
    const r = await router.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(r.deployment).toBe('paid');
    expect(r.text).toBe('Echo: hi');
    expect(r.attempts[0]).toMatchObject({ deployment: 'free', errorCode: 'permission_denied' });
    expect(requestsFor('gemini-2.0-flash') - before).toBe(1);
    await router.close();
  });

  it('depleted prepayment credits (429 RESOURCE_EXHAUSTED) fall over at once instead of being retried as a rate limit', async () => {
    const before = requestsFor('gemini-2.0-flash-lite');
    const router = geminiRouter([
      { name: 'prepaid', model: 'gemini-2.0-flash-lite' },
      { name: 'postpaid', model: 'gemini-2.5-flash' },
    ]);
    const r = await router.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(r.deployment).toBe('postpaid');
    expect(r.attempts[0]).toMatchObject({ deployment: 'prepaid', errorCode: 'budget_exceeded' });
    // Waiting does not refill the balance: one request, no retries.
    expect(requestsFor('gemini-2.0-flash-lite') - before).toBe(1);
    await router.close();
  });

  it('a genuinely invalid request (400 INVALID_ARGUMENT) still stops at once', async () => {
    const before = requestsFor('gemini-2.5-flash');
    const router = geminiRouter([
      { name: 'pro', model: 'gemini-2.5-pro' },
      { name: 'flash', model: 'gemini-2.5-flash' },
    ]);
    await expect(router.generate({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ code: 'invalid_request', deployment: 'pro' });
    expect(requestsFor('gemini-2.5-flash')).toBe(before);
    await router.close();
  });
});

describe('Anthropic: the organisation\'s credit is not the request\'s fault', () => {
  let broke: AnthropicWireServer;
  let invalid: AnthropicWireServer;
  let funded: AnthropicWireServer;
  beforeAll(async () => {
    // The API's answer to any request from an organisation without credits (a 400 invalid_request_error).
    broke = await startAnthropicWireServer({
      handler: () => ({
        error: {
          status: 400,
          type: 'invalid_request_error',
          message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
        },
      }),
    });
    invalid = await startAnthropicWireServer({
      handler: () => ({ error: { status: 400, type: 'invalid_request_error', message: 'messages: roles must alternate between "user" and "assistant"' } }),
    });
    funded = await startAnthropicWireServer();
  });
  afterAll(async () => {
    await Promise.all([broke.close(), invalid.close(), funded.close()]);
  });

  function anthropicRouter(first: AnthropicWireServer): LLMRouter {
    return new LLMRouter(
      {
        models: [
          { name: 'org-a', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: first.url, apiKey: 'k', priority: 1 },
          { name: 'org-b', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: funded.url, apiKey: 'k', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
      },
      { engineFactories: { anthropic: createAnthropicEngine }, env: {}, sleep: async () => {} },
    );
  }

  it('"credit balance is too low" (400 invalid_request_error) falls over to the next deployment, without retrying', async () => {
    const router = anthropicRouter(broke);
    const r = await router.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(r.deployment).toBe('org-b');
    expect(r.attempts[0]).toMatchObject({ deployment: 'org-a', errorCode: 'budget_exceeded' });
    expect(broke.requests.length).toBe(1);
    await router.close();
  });

  it('a genuinely invalid request (400 invalid_request_error) still stops at once', async () => {
    const before = funded.requests.length;
    const router = anthropicRouter(invalid);
    await expect(router.generate({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ code: 'invalid_request', deployment: 'org-a' });
    expect(funded.requests.length).toBe(before);
    await router.close();
  });
});

describe('OpenAI: the organisation\'s state is not the request\'s fault', () => {
  /** Streams `script` from org-a (else answers), then org-b answers; returns the deployment that answered, or the error. */
  async function streamFrom(first: { error?: OpenAIWireError; rawSSE?: string }): Promise<{ deployment?: string; code?: string; firstRequests: number; secondRequests: number }> {
    const a = await startOpenAIWireServer({ script: first });
    const b = await startOpenAIWireServer();
    try {
      const { router } = openAIWireRouter(
        [
          { name: 'org-a', engine: 'openai-compatible', model: 'o3', baseURL: a.baseURL, priority: 1 },
          { name: 'org-b', engine: 'openai-compatible', model: 'o3', baseURL: b.baseURL, priority: 2 },
        ],
        { retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
      );
      const stream = router.stream({ messages: [{ role: 'user', content: 'hi' }] });
      for await (const part of stream) void part;
      const outcome = await stream.result.then(
        (r) => ({ deployment: r.deployment }),
        (e: { code?: string }) => ({ code: e.code }),
      );
      await router.close();
      return { ...outcome, firstRequests: a.requests.length, secondRequests: b.requests.length };
    } finally {
      await a.close();
      await b.close();
    }
  }

  it('"organization must be verified to stream this model" (400 unsupported_value) falls over to the next deployment', async () => {
    // What api.openai.com answers a streamed request for o3 / gpt-5 from an organisation that is not verified.
    const out = await streamFrom({
      error: {
        status: 400,
        type: 'invalid_request_error',
        param: 'stream',
        code: 'unsupported_value',
        message:
          'Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate.',
      },
    });
    expect(out).toEqual({ deployment: 'org-b', firstRequests: 1, secondRequests: 1 });
  });

  it('a genuinely unsupported value (400 unsupported_value on temperature) still stops at once', async () => {
    const out = await streamFrom({
      error: {
        status: 400,
        type: 'invalid_request_error',
        param: 'temperature',
        code: 'unsupported_value',
        message: "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
      },
    });
    expect(out).toEqual({ code: 'invalid_request', firstRequests: 1, secondRequests: 0 });
  });

  it('insufficient_quota inside the stream falls over at once, as it does as an HTTP 429', async () => {
    const quota = JSON.stringify({
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    });
    const out = await streamFrom({ rawSSE: `data: ${quota}\n\n` });
    // Waiting does not restore a billing quota: one request to org-a, no retries.
    expect(out).toEqual({ deployment: 'org-b', firstRequests: 1, secondRequests: 1 });
  });
});
