/**
 * The Responses API and the Anthropic route in front of upstreams that break mid-stream (OpenAI, Anthropic, Gemini
 * wire): never a completed answer, always an error the official clients throw, ledgered; and streamed vs non-streamed
 * ledger parity per wire format (the budget spent is the sum of the rows). Official openai / Anthropic clients.
 */
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ledgerRow, reservationsSettled } from '../test-support/ledger-wait.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

const PRICE = { price: { input: 1, output: 2 } };

const wire = overWireUpstreams(
  (u) => [
    wireDeployment(u, 'gpt', PRICE),
    wireDeployment(u, 'gem', PRICE),
    wireDeployment(u, 'claude', PRICE),
    { ...wireDeployment(u, 'gpt', { ...PRICE, timeouts: { totalMs: 1500 } }), name: 'gpt-timed' },
  ],
  { routing: { strategy: 'priority', retries: { max: 0 } } },
);
beforeAll(async () => {
  await wire.gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 4 } });
});
// A test that scripts the OpenAI upstream leaves it scripted: back to its default answer after each.
afterEach(() => wire.upstreams.openai.setScript({}));

/** The upstream faults both routes are put in front of. */
const FAULTS = {
  /** Cut mid-stream after 3 chunks. */
  openaiCut: { text: 'one two three four five six seven', cutAfterChunks: 3 },
  /** Ends without finish_reason and [DONE]. */
  openaiNoFinish: { text: 'one two three', finishReason: null, omitDone: true },
  /** Stalls after 3 chunks (past gpt-timed's totalMs). */
  openaiStall: { text: 'one two three four five six seven', hangAfterChunks: 3 },
  /** Ends without finishReason after 3 events. */
  geminiNoFinish: { parts: 'alpha beta gamma delta epsilon', chunks: 5, endAfterEvents: 3 },
} as const;

/** Reads a client's event stream to its end; returns the event types, the text `textOf` picks out and a thrown error. */
async function drain<E extends { type: string }>(stream: AsyncIterable<E>, textOf: (e: E) => string | undefined) {
  const types: string[] = [];
  let text = '';
  let error: unknown;
  try {
    for await (const e of stream) {
      types.push(e.type);
      text += textOf(e) ?? '';
    }
  } catch (e) {
    error = e;
  }
  return { types, text, error };
}

/** Streams /v1/responses; returns the event types, the text and a thrown error. */
async function responsesStream(model: string, input = 'tell me a story') {
  const { data: stream, response } = await wire.gw.openai().responses.create({ model, input, stream: true }).withResponse();
  const read = await drain(stream, (e) => (e.type === 'response.output_text.delta' ? e.delta : undefined));
  return { id: response.headers.get('x-request-id')!, ...read };
}

/** Streams /v1/messages with the Anthropic client; returns the event types, the text and a thrown error. */
async function messagesStream(model: string) {
  const { data: stream, response } = await wire.gw.anthropic().messages.create({ model, max_tokens: 200, messages: [{ role: 'user', content: 'tell me a story' }], stream: true }).withResponse();
  const read = await drain(stream, (e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : undefined));
  return { id: response.headers.get('x-request-id')!, ...read };
}

describe('/v1/responses in front of a breaking upstream', () => {
  it('OpenAI upstream cut mid-stream: never response.completed; the client sees a failure', async () => {
    wire.upstreams.openai.setScript(FAULTS.openaiCut);
    const r = await responsesStream('gpt');
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.types).not.toContain('response.completed');
    // An `error` event, which the openai client throws as an APIError.
    expect(r.error).toBeInstanceOf(OpenAI.APIError);
    expect((await ledgerRow(wire.gw, r.id)).status).toBe('error');
    await reservationsSettled(wire.gw);
  });

  it('OpenAI upstream stalling past totalMs: the stream fails, ledgered as timeout', async () => {
    wire.upstreams.openai.setScript(FAULTS.openaiStall);
    const r = await responsesStream('gpt-timed');
    expect(r.types).not.toContain('response.completed');
    // An `error` event, which the openai client throws as an APIError.
    expect(r.error).toBeInstanceOf(OpenAI.APIError);
    const row = await ledgerRow(wire.gw, r.id);
    expect(row).toMatchObject({ status: 'error', errorCode: 'timeout' });
    await reservationsSettled(wire.gw);
  });

  it.each([
    { name: 'OpenAI upstream ending without finish_reason and [DONE]: never response.completed', model: 'gpt', fault: () => wire.upstreams.openai.setScript(FAULTS.openaiNoFinish) },
    {
      name: 'Anthropic upstream overloaded_error mid-stream: never response.completed',
      model: 'claude',
      fault: () => wire.upstreams.anthropic.enqueue({ content: 'alpha beta gamma delta epsilon', chunks: 5, streamError: { afterEvents: 4, type: 'overloaded_error', message: 'Overloaded' } }),
    },
    { name: 'Gemini upstream ending without finishReason: never response.completed', model: 'gem', fault: () => wire.upstreams.gemini.enqueue(FAULTS.geminiNoFinish) },
  ])('$name', async ({ model, fault }) => {
    fault();
    const r = await responsesStream(model);
    expect(r.types).not.toContain('response.completed');
    // An `error` event, which the openai client throws as an APIError.
    expect(r.error).toBeInstanceOf(OpenAI.APIError);
    await reservationsSettled(wire.gw);
  });
});

describe('/v1/messages in front of a breaking non-Anthropic upstream', () => {
  it('OpenAI upstream cut mid-stream: an error event, no message_stop', async () => {
    wire.upstreams.openai.setScript(FAULTS.openaiCut);
    const r = await messagesStream('gpt');
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.types).not.toContain('message_stop');
    expect(r.error).toBeDefined();
    expect((await ledgerRow(wire.gw, r.id)).status).toBe('error');
    await reservationsSettled(wire.gw);
  });

  it.each([
    { name: 'OpenAI upstream ending without finish_reason and [DONE]: an error event, no message_stop', model: 'gpt', fault: () => wire.upstreams.openai.setScript(FAULTS.openaiNoFinish) },
    { name: 'Gemini upstream ending without finishReason: an error event, no message_stop', model: 'gem', fault: () => wire.upstreams.gemini.enqueue(FAULTS.geminiNoFinish) },
  ])('$name', async ({ model, fault }) => {
    fault();
    const r = await messagesStream(model);
    expect(r.types).not.toContain('message_stop');
    expect(r.error).toBeDefined();
    await reservationsSettled(wire.gw);
  });

  it('stalling past totalMs: an error event, no message_stop, row is a timeout', async () => {
    wire.upstreams.openai.setScript(FAULTS.openaiStall);
    const r = await messagesStream('gpt-timed');
    expect(r.types).not.toContain('message_stop');
    expect(r.error).toBeDefined();
    expect(await ledgerRow(wire.gw, r.id)).toMatchObject({ status: 'error', errorCode: 'timeout' });
    await reservationsSettled(wire.gw);
  });
});

describe('streamed and non-streamed answers are ledgered alike', () => {
  async function pair(model: string, before: () => void) {
    before();
    const a = await wire.gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'same prompt' }] }).withResponse();
    before();
    const { data: s, response } = await wire.gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'same prompt' }], stream: true }).withResponse();
    for await (const _ of s) void _;
    const rowA = await ledgerRow(wire.gw, a.response.headers.get('x-request-id')!);
    const rowB = await ledgerRow(wire.gw, response.headers.get('x-request-id')!);
    return { rowA, rowB };
  }

  it('Gemini with thoughts and cached tokens: same tokens and cost streamed or not', async () => {
    const { rowA, rowB } = await pair('gem', () => wire.upstreams.gemini.enqueue({ parts: 'the answer text', chunks: 3, usage: { promptTokenCount: 100, candidatesTokenCount: 40, thoughtsTokenCount: 25, cachedContentTokenCount: 30 } }));
    expect({ i: rowB.inputTokens, o: rowB.outputTokens, c: rowB.cachedInputTokens, usd: rowB.costUsd }).toEqual({ i: rowA.inputTokens, o: rowA.outputTokens, c: rowA.cachedInputTokens, usd: rowA.costUsd });
  });

  it('Anthropic with cache reads and writes: same tokens and cost streamed or not', async () => {
    const { rowA, rowB } = await pair('claude', () =>
      wire.upstreams.anthropic.enqueue({ content: 'the answer text', chunks: 3, usage: { input_tokens: 100, output_tokens: 40, cache_read_input_tokens: 30, cache_creation_input_tokens: 20 } as never }),
    );
    expect({ i: rowB.inputTokens, o: rowB.outputTokens, c: rowB.cachedInputTokens, w: rowB.cacheWriteInputTokens, usd: rowB.costUsd }).toEqual({
      i: rowA.inputTokens,
      o: rowA.outputTokens,
      c: rowA.cachedInputTokens,
      w: rowA.cacheWriteInputTokens,
      usd: rowA.costUsd,
    });
  });

  it('OpenAI without usage in the stream (a server ignoring include_usage): same tokens and cost as not streamed', async () => {
    const { rowA, rowB } = await pair('gpt', () => wire.upstreams.openai.setScript({ text: 'the answer text is here', usage: { prompt_tokens: 100, completion_tokens: 40 }, streamUsage: 'never' }));
    // Not streamed the upstream reports 100/40; streamed the gateway can only estimate, but it must not bill zero.
    expect(rowB.outputTokens).toBeGreaterThan(0);
    expect(rowB.inputTokens).toBeGreaterThan(0);
    expect(rowA).toMatchObject({ inputTokens: 100, outputTokens: 40 });
  });

  it('the budget spent equals the sum of the ledger rows after all of the above', async () => {
    await reservationsSettled(wire.gw);
    const rows = await wire.gw.ledger.query({ tenantId: 'acme', limit: 1000 });
    const total = rows.reduce((s, r) => s + r.costUsd, 0);
    const spent = (await wire.gw.harness.stores!.budgets.spent('acme', 'month')).spentUsd;
    expect(spent).toBeCloseTo(total, 9);
  });
});
