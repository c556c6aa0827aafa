/**
 * Auxiliary-call spend (semantic guard calls, a cascade verifier's reported cost) in the gateway's ledger when the
 * call fails: a guard call is billed the same on JSON and streamed calls whatever the shape of the provider's error
 * body; a verifier reporting a cost that is no amount fails the call as the verifier's error, and the paid weak call
 * is still recorded (the ledger never refuses the row); a cost that is no amount reaching the settlement from
 * elsewhere (an engine's error) is logged and recorded as 0, never a 500 after paid calls. Real peers: a local
 * OpenAI-wire upstream and plain `fetch` against the gateway served on a loopback port; the last case through the
 * gateway's `fetch` handler with a custom engine.
 */
import { LLMError, type CallOptions, type GenerateRequest, type GenerateResult, type StreamPart } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chatCallsOf, GUARD_EVERY_MATCH, guardedWireDeployments, JUDGE, JUDGE_USD, MAIN, MAIN_USD, modelOf } from '../test-support/guarded-wire-deployments.js';
import { createHarness, mockModel, post as harnessPost } from '../test-support/harness.js';
import { MockEngineWrapper } from '../test-support/mock-engine-wrapper.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let up: OpenAIWireServer;
let gw: SdkGateway;
let mainScript: OpenAIWireScript = {};

const chatCalls = (model: string) => chatCallsOf(up, model);

beforeAll(async () => {
  up = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      const model = modelOf(r);
      if (model === 'judge-test') return { text: 'NO', usage: JUDGE.usage };
      return { text: 'Mount Everest is 8,849 m tall.', usage: MAIN.usage, streamUsage: 'always', ...mainScript };
    },
  });
  gw = await servedGateway({
    models: guardedWireDeployments(up, MAIN.price),
    routing: { cascades: [{ name: 'refunding', weak: 'main', strong: 'big', verifier: 'refund', threshold: 0.5 }] },
    // A verifier that reports a negative cost (a bug in user code, a refund computed the wrong way round).
    routerOptions: { env: {}, verifiers: { refund: () => ({ score: 0.1, cost: { inputUsd: 0, outputUsd: 0, totalUsd: -1, estimated: false } }) } },
    cache: GUARD_EVERY_MATCH,
    upstreams: [up],
  });
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' } });
  // Fills the semantic cache: every later question about the mountain is a guard-band match the guard says NO to.
  const first = await post({ model: 'main', max_tokens: 100, messages: [{ role: 'user', content: 'how tall is mount everest' }] });
  expect(first.status).toBe(200);
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(() => {
  mainScript = {};
});

function post(body: unknown): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('auxiliary spend of failed calls in the ledger', () => {
  it('a call failing after a guard NO with an upstream error whose JSON body is a list: JSON and streamed rows both hold the guard call', async () => {
    // A proxy in front of the provider answering 400 with a JSON list body (the error's `details` is that list).
    mainScript = { error: { status: 400, body: [{ message: 'bad request upstream' }] } };
    const rows: Record<string, number> = {};
    for (const stream of [true, false]) {
      const judgeBefore = chatCalls('judge-test');
      const res = await post({ model: 'main', max_tokens: 100, stream, messages: [{ role: 'user', content: stream ? 'how tall is mount everest in feet' : 'how tall is mount everest in meters' }] });
      await res.text();
      expect(res.ok).toBe(false);
      // A guard call was made (and paid) for each.
      expect(chatCalls('judge-test') - judgeBefore).toBe(1);
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'error', stream });
      rows[stream ? 'streamed' : 'json'] = row!.costUsd;
    }
    // Streamed: billed from the stream's spent(); JSON: from the error (guardCostOf), whatever its details' shape.
    expect(rows.streamed).toBeCloseTo(JUDGE_USD, 12);
    expect(rows.json).toBeCloseTo(JUDGE_USD, 12);
  });

  for (const stream of [false, true]) {
    it(`a cascade whose verifier reports a negative cost fails as the verifier's error; the paid weak call is recorded (${stream ? 'stream' : 'JSON'})`, async () => {
      const res = await post({ model: 'refunding', max_tokens: 100, stream, llmrr: { cache: false }, messages: [{ role: 'user', content: 'zzzz qqqq xxxx 1234567890' }] });
      const body = await res.text();
      // The verifier's bug (a refund computed the wrong way round) is an `internal` error, as a score that is not a
      // number is: no cost below what the weak call cost is ever billed.
      expect(res.status, body).toBe(500);
      expect(JSON.parse(body)).toMatchObject({ error: { code: 'internal' } });
      // The row is there (a ledger that refused it would leave none): the weak call, paid, at its cost.
      const row = await gw.ledger.get(res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'error', errorCode: 'internal', stream });
      expect(row?.costUsd).toBeCloseTo(MAIN_USD, 12);
    });
  }
});

/** Fails every call with an error whose spend details (`details.cascade.weak`, as a cascade's) hold a negative cost. */
class NegativeSpendEngine extends MockEngineWrapper {
  private failure(): LLMError {
    const weak = { usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, cost: { inputUsd: 0, outputUsd: 0, totalUsd: -5, estimated: false } };
    return new LLMError({ code: 'provider_error', message: 'upstream failed', details: { cascade: { name: 'x', weak } } });
  }

  async generate(_request: GenerateRequest, _options?: CallOptions): Promise<GenerateResult> {
    throw this.failure();
  }

  // eslint-disable-next-line require-yield -- fails before any part, as the JSON call does.
  async *stream(_request: GenerateRequest, _options?: CallOptions): AsyncIterable<StreamPart> {
    throw this.failure();
  }
}

describe('a settlement whose cost is no amount', () => {
  it('is logged and recorded as 0: the client gets the call\'s own error, not a 500 from the ledger', async () => {
    const logged: string[] = [];
    const h = await createHarness({
      models: [mockModel('odd')],
      routerOptions: { env: {}, engines: { odd: new NegativeSpendEngine() } },
      stores: 'memory',
      gateway: { log: (entry) => logged.push(entry.message) },
    });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      for (const stream of [false, true]) {
        const res = await harnessPost(h.gateway, '/v1/chat/completions', { model: 'odd', stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
        const body = await res.text();
        expect(res.status, body).toBe(502);
        const row = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
        expect(row).toMatchObject({ status: 'error', errorCode: 'provider_error', costUsd: 0, stream });
      }
      expect(logged.filter((m) => m.includes('not an amount'))).toHaveLength(2);
    } finally {
      await h.close();
    }
  });
});
