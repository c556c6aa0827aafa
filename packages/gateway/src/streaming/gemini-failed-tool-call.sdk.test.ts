/**
 * A Gemini answer that ends with `finishReason: "MALFORMED_FUNCTION_CALL"` (or `UNEXPECTED_TOOL_CALL`): the model
 * failed to make a tool call, so no client is told it finished normally (`finish_reason: "stop"`, `end_turn`,
 * `status: "completed"`). Alone it is a typed 502 the official clients throw, streamed or not; with a fallback the
 * router falls over to it. Gemini answered (HTTP 200) and billed it: the ledger row of the call bills every such
 * attempt, streamed or not, retried, fallen over or not. It is the model's answer to this request's tools, not the
 * deployment failing: no strike on its circuit. Official openai / Anthropic clients, a local Gemini-wire upstream.
 */
import { inspect } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { countingOpenAI, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';
import type { GatewayLogEntry } from '../types.js';

let up: WireUpstreams;
let gw: SdkGateway;
/** The gateway's log entries. */
const logged: GatewayLogEntry[] = [];
beforeAll(async () => {
  const served = await servedOverWireUpstreams(
    (u) => [
      wireDeployment(u, 'gem'),
      ...['gem-backed', 'gem-circuit', 'gem-down', 'gem-first'].map((name) => ({ ...wireDeployment(u, 'gem'), name })),
      wireDeployment(u, 'claude'),
    ],
    {
      routing: {
        strategy: 'priority',
        retries: { max: 0 },
        fallbacks: { 'gem-backed': ['claude'], 'gem-circuit': ['claude'], 'gem-down': ['claude'], 'gem-first': ['gem-down'] },
        circuitBreaker: { failureThreshold: 3, cooldownMs: 600_000 },
      },
      gateway: { log: (entry) => logged.push(entry) },
    },
  );
  up = served.upstreams;
  gw = served.gw;
});
afterAll(async () => gw?.close());

const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const ask = [{ role: 'user' as const, content: 'Weather in Oslo?' }];
const failed = (finishReason: string) => ({ parts: [], finishReason, finishMessage: "Malformed function call: print(default_api.get_weather(city='Oslo'))" });
/** The prompt tokens Gemini reports (and bills) for a failed tool call (`malformed`). */
const PROMPT = 1000;
const malformed = () => ({ ...failed('MALFORMED_FUNCTION_CALL'), usage: { promptTokenCount: PROMPT, candidatesTokenCount: 0 } });

/** The ledger row of `requestId` on `on`, once written. */
async function row(on: SdkGateway, requestId: string | null | undefined) {
  expect(requestId).toBeTruthy();
  return vi.waitFor(
    async () => {
      const r = await on.ledger.get(requestId!);
      expect(r).toBeDefined();
      return r!;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** `llm_circuit_state` of `deployment` on `on` (0 closed, 1 half-open, 2 open); undefined without a series (no failure counted). */
async function circuitState(on: SdkGateway, deployment: string): Promise<number | undefined> {
  const text = await (await fetch(`${on.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`llm_circuit_state{deployment="${deployment}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** What a client call threw, or undefined when it answered. */
async function thrown(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('Gemini failed tool call, no fallback: a 502 invalid_response, never a normal finish', () => {
  for (const finishReason of ['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL']) {
    it(`${finishReason}: chat completions, streamed and not`, async () => {
      up.gemini.enqueue(failed(finishReason));
      const e = await thrown(() => gw.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS }));
      expect(e).toBeInstanceOf(OpenAI.InternalServerError);
      expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_response');

      up.gemini.enqueue(failed(finishReason));
      const finishes: Array<string | null> = [];
      const streamed = await thrown(async () => {
        const stream = await gw.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS, stream: true });
        for await (const chunk of stream) for (const c of chunk.choices) if (c.finish_reason) finishes.push(c.finish_reason);
      });
      expect(streamed).toBeInstanceOf(OpenAI.APIError);
      expect(finishes).toEqual([]);
    });
  }

  it('the Responses API: no completed response, streamed or not', async () => {
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }];
    const e = await thrown(() => gw.openai().responses.create({ model: 'gem', input: 'Weather in Oslo?', tools }));
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);

    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const types: string[] = [];
    const streamed = await thrown(async () => {
      const stream = await gw.openai().responses.create({ model: 'gem', input: 'Weather in Oslo?', tools, stream: true });
      for await (const event of stream) types.push(event.type);
    });
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect(types).not.toContain('response.completed');
  });

  it('Anthropic messages: no end_turn, streamed or not', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }];
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const e = await thrown(() => gw.anthropic().messages.create({ model: 'gem', max_tokens: 100, messages: ask, tools }));
    expect(e).toBeInstanceOf(Anthropic.APIError);
    expect((e as InstanceType<typeof Anthropic.APIError>).status).toBe(502);

    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const stops: Array<string | null> = [];
    const streamed = await thrown(async () => {
      const stream = await gw.anthropic().messages.create({ model: 'gem', max_tokens: 100, messages: ask, tools, stream: true });
      for await (const event of stream) if (event.type === 'message_delta') stops.push(event.delta.stop_reason);
    });
    expect(streamed).toBeInstanceOf(Anthropic.APIError);
    expect(stops).toEqual([]);
  });
});

describe("the gateway's log line of a failed tool call's 502", () => {
  it("has its code, provider and status, not Gemini's finishMessage (which may quote the input)", async () => {
    const secret = 'default_api.get_weather';
    const entries = (requestId: string) => logged.filter((entry) => entry.requestId === requestId);
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const e = (await thrown(() => gw.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS }))) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(502);
    const [entry] = await vi.waitFor(() => {
      const found = entries(e.requestID!);
      expect(found).toHaveLength(1);
      return found;
    });
    const error = entry!.error as { code: string; provider: string; statusCode: number; details: Record<string, unknown> };
    expect({ message: entry!.message, code: error.code, provider: error.provider, status: error.statusCode, finishReason: error.details.finishReason }).toEqual({
      message: 'request failed: invalid_response',
      code: 'invalid_response',
      provider: 'gemini',
      status: 502,
      finishReason: 'MALFORMED_FUNCTION_CALL',
    });
    // As the default log prints it (console.error: util.inspect), causes and all.
    expect(inspect(entry, { depth: 10 })).not.toContain(secret);
  });
});

describe('Gemini failed tool call with a fallback: the router falls over', () => {
  it('chat completions, streamed and not: the fallback answers', async () => {
    const before = up.gemini.requests.length;
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const { data, response } = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask }).withResponse();
    expect(response.headers.get('x-llmrr-model')).toBe('claude');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.choices[0]!.message.content).toBeTruthy();

    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const { data: stream, response: streamedResponse } = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask, stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(streamedResponse.headers.get('x-llmrr-model')).toBe('claude');
    expect(text).not.toBe('');
    expect(up.gemini.requests.length - before).toBe(2);
  });
});

describe("Gemini failed tool call next to a deployment whose circuit is open: the client gets the tool-call failure, not circuit_open", () => {
  beforeAll(async () => {
    // Three health failures (503) of gem-down (threshold 3), each call answered by its fallback, open its circuit.
    for (let i = 0; i < 3; i++) {
      up.gemini.enqueue({ error: { status: 503 } });
      const { response } = await gw.openai().chat.completions.create({ model: 'gem-down', messages: ask }).withResponse();
      expect(response.headers.get('x-llmrr-model')).toBe('claude');
    }
    expect(await circuitState(gw, 'gem-down')).toBe(2);
  });

  // (The other order, an open deployment skipped and then a failed tool call, is in deployment-limiter.test.ts: a
  // call's own deployment, open, is not skipped here but probed, as it is its only candidate.)
  it('the attempted deployment fails its tool call, its fallback is open: a 502 invalid_response, streamed and not', async () => {
    const before = up.gemini.requests.length;
    up.gemini.enqueue(malformed());
    const e = await thrown(() => gw.openai().chat.completions.create({ model: 'gem-first', messages: ask, tools: TOOLS }));
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect({ status: (e as InstanceType<typeof OpenAI.APIError>).status, code: (e as InstanceType<typeof OpenAI.APIError>).code }).toEqual({ status: 502, code: 'invalid_response' });

    up.gemini.enqueue(malformed());
    const streamed = await thrown(async () => {
      const stream = await gw.openai().chat.completions.create({ model: 'gem-first', messages: ask, tools: TOOLS, stream: true });
      for await (const chunk of stream) void chunk;
    });
    expect({ status: (streamed as InstanceType<typeof OpenAI.APIError>).status, code: (streamed as InstanceType<typeof OpenAI.APIError>).code }).toEqual({ status: 502, code: 'invalid_response' });
    // One Gemini answer per call: the open deployment was not sent anything.
    expect(up.gemini.requests.length - before).toBe(2);
  });
});

describe('Gemini failed tool call: the ledger bills the prompt Gemini billed, streamed or not', () => {
  it('with a fallback that answers: the row holds the failed Gemini attempt and the answer, the same streamed and not', async () => {
    up.gemini.enqueue(malformed());
    const streamed = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask, tools: TOOLS, stream: true }).withResponse();
    for await (const _ of streamed.data);
    expect(streamed.response.headers.get('x-llmrr-model')).toBe('claude');
    const streamedRow = await row(gw, streamed.response.headers.get('x-request-id'));

    up.gemini.enqueue(malformed());
    const json = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask, tools: TOOLS }).withResponse();
    expect(json.response.headers.get('x-llmrr-model')).toBe('claude');
    const jsonRow = await row(gw, json.response.headers.get('x-request-id'));

    expect(streamedRow.inputTokens).toBeGreaterThan(PROMPT);
    expect(jsonRow.inputTokens).toBe(streamedRow.inputTokens);
    expect(jsonRow.costUsd).toBeCloseTo(streamedRow.costUsd, 12);
    expect(jsonRow).toMatchObject({ status: 'success', deployment: 'claude' });
  });

  it("alone (no fallback): the failed call's row records the prompt Gemini billed, and its cost", async () => {
    up.gemini.enqueue(malformed());
    const e = await thrown(() => gw.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS }));
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    const r = await row(gw, (e as InstanceType<typeof OpenAI.APIError>).requestID);
    expect(r).toMatchObject({ status: 'error', errorCode: 'invalid_response', inputTokens: PROMPT, outputTokens: 0 });
    // gemini-2.5-flash has a price: the prompt is paid for.
    expect(r.costUsd).toBeGreaterThan(0);
  });

  it('after content was streamed: the client sees the text then an error (no fallover); the row bills the answer once', async () => {
    up.gemini.enqueue({ parts: 'Let me look that up for you.', chunks: 2, finishReason: 'MALFORMED_FUNCTION_CALL', usage: { promptTokenCount: PROMPT, candidatesTokenCount: 7 } });
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask, tools: TOOLS, stream: true }).withResponse();
    let text = '';
    const finishes: string[] = [];
    const e = await thrown(async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        for (const c of chunk.choices) if (c.finish_reason) finishes.push(c.finish_reason);
      }
    });
    expect(response.headers.get('x-llmrr-model')).toBe('gem-backed');
    expect(text).toBe('Let me look that up for you.');
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(finishes).toEqual([]);
    expect(await row(gw, response.headers.get('x-request-id'))).toMatchObject({ status: 'error', errorCode: 'invalid_response', stream: true, inputTokens: PROMPT, outputTokens: 7 });
  });
});

describe("Gemini failed tool calls do not strike the deployment's circuit", () => {
  it('more malformed answers than the failure threshold (3), each call falling over to claude: the circuit stays closed', async () => {
    for (let i = 0; i < 4; i++) {
      up.gemini.enqueue(malformed());
      const { response } = await gw.openai().chat.completions.create({ model: 'gem-circuit', messages: ask, tools: TOOLS }).withResponse();
      expect(response.headers.get('x-llmrr-model')).toBe('claude');
    }
    // The upstream answered every request (HTTP 200); only the model's tool call was bad. An open circuit (2) would
    // turn every tenant's traffic away from the deployment for its cooldown.
    expect(await circuitState(gw, 'gem-circuit')).not.toBe(2);
    // The next call is sent to Gemini (not skipped for an open circuit), which answers it.
    const before = up.gemini.requests.length;
    up.gemini.enqueue({ parts: 'Sunny.' });
    const { response } = await gw.openai().chat.completions.create({ model: 'gem-circuit', messages: ask }).withResponse();
    expect(response.headers.get('x-llmrr-model')).toBe('gem-circuit');
    expect(up.gemini.requests.length - before).toBe(1);
  });
});

describe('retries of a failed tool call (the default 2): every attempt Gemini billed is billed', () => {
  let up2: WireUpstreams;
  let gw2: SdkGateway;
  beforeAll(async () => {
    const served = await servedOverWireUpstreams(
      (u) => ['gem-stream', 'gem-json', 'gem-c', 'gem-sdk'].map((name) => ({ ...wireDeployment(u, 'gem'), name })),
      { routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } } },
    );
    up2 = served.upstreams;
    gw2 = served.gw;
  });
  afterAll(async () => gw2?.close());

  it('streamed and not: three attempts sent, three prompts in the row of the failed call', async () => {
    let single: number | undefined;
    for (const stream of [true, false]) {
      const before = up2.gemini.requests.length;
      for (let i = 0; i < 3; i++) up2.gemini.enqueue(malformed());
      // Nothing was streamed before the failure: the gateway answers the 502 itself, streamed or not.
      const e = await thrown(async () => {
        const answer = await gw2.openai().chat.completions.create({ model: stream ? 'gem-stream' : 'gem-json', messages: ask, tools: TOOLS, stream });
        if (Symbol.asyncIterator in answer) for await (const _ of answer);
      });
      expect(e, `stream ${stream}`).toBeInstanceOf(OpenAI.APIError);
      expect(up2.gemini.requests.length - before, `stream ${stream}`).toBe(3);
      const r = await row(gw2, (e as InstanceType<typeof OpenAI.APIError>).requestID);
      expect(r, `stream ${stream}`).toMatchObject({ status: 'error', inputTokens: 3 * PROMPT });
      expect(r.costUsd).toBeGreaterThan(0);
      if (single === undefined) single = r.costUsd;
      else expect(r.costUsd).toBeCloseTo(single, 12);
    }
  });

  it("with the default circuit (5 failures): two calls whose tools Gemini fails to call (6 attempts) leave it closed", async () => {
    for (let i = 0; i < 6; i++) up2.gemini.enqueue(malformed());
    for (let i = 0; i < 2; i++) expect(await thrown(() => gw2.openai().chat.completions.create({ model: 'gem-c', messages: ask, tools: TOOLS }))).toBeInstanceOf(OpenAI.APIError);
    expect(await circuitState(gw2, 'gem-c')).not.toBe(2);
  });

  it("the official client's own retries of the 502 (maxRetries 2) x the gateway's: 9 Gemini answers, the rows sum to them", async () => {
    const { client, sent } = countingOpenAI(gw2);
    const before = up2.gemini.requests.length;
    for (let i = 0; i < 9; i++) up2.gemini.enqueue(malformed());
    expect(await thrown(() => client.chat.completions.create({ model: 'gem-sdk', messages: ask, tools: TOOLS }))).toBeInstanceOf(OpenAI.APIError);
    expect(sent()).toBe(3);
    expect(up2.gemini.requests.length - before).toBe(9);
    const rows = await vi.waitFor(
      async () => {
        const r = await gw2.ledger.query({ model: 'gem-sdk' });
        expect(r).toHaveLength(3);
        return r;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(rows.reduce((n, r) => n + r.inputTokens, 0)).toBe(9 * PROMPT);
  });
});

describe('the budget of a JSON call whose attempts Gemini billed for failed tool calls', () => {
  let up3: WireUpstreams;
  let gw3: SdkGateway;
  const reservations: string[] = [];
  beforeAll(async () => {
    // $1 per 1M tokens: an attempt reporting 1M prompt tokens is billed $1, far above the reservation of this small call.
    const served = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gem', { price: { input: 1, output: 1 } })], {
      routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
    });
    up3 = served.upstreams;
    gw3 = served.gw;
    const stores = gw3.harness.stores!;
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: 1.5, period: 'month' } });
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    stores.budgets.reserve = (r) => {
      reservations.push(r.reservationId);
      return reserve(r);
    };
  });
  afterAll(async () => gw3?.close());

  it('each retry after a billed attempt extends the reservation first; one the budget cannot cover ends the call with 402, nothing more sent, the row billing what was', async () => {
    for (let i = 0; i < 3; i++) up3.gemini.enqueue({ ...failed('MALFORMED_FUNCTION_CALL'), usage: { promptTokenCount: 1_000_000, candidatesTokenCount: 0 } });
    const e = await thrown(() => gw3.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS }));
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    const requestId = (e as InstanceType<typeof OpenAI.APIError>).requestID;
    // Attempt 1 billed $1: the reservation was extended ($1 + the call), and attempt 2 sent; attempt 2 billed $1 more,
    // which the budget of $1.50 cannot hold with one more call: no third request.
    expect(up3.gemini.requests).toHaveLength(2);
    // (The call's reservation id is its request id and a per-call suffix; its extensions are that id and `+N`.)
    const extensions = reservations.filter((id) => id.includes('+'));
    expect(extensions.map((id) => id.slice(id.lastIndexOf('+')))).toEqual(['+1', '+2']);
    for (const id of extensions) expect(id.startsWith(requestId!)).toBe(true);
    const r = await row(gw3, requestId);
    expect(r).toMatchObject({ status: 'error', errorCode: 'budget_exceeded', inputTokens: 2_000_000 });
    expect(r.costUsd).toBeCloseTo(2, 9);
    // The budget is charged what the row bills (its reservations settled or released).
    await vi.waitFor(async () => expect((await gw3.harness.stores!.budgets.spent('acme', 'month')).spentUsd).toBeCloseTo(2, 9), { timeout: 10_000, interval: 50 });
  });
});
