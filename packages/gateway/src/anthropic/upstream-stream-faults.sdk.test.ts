/**
 * Anthropic-wire upstreams that misbehave as real ones (and Anthropic-compatible APIs) do: an `error` event as the
 * first event of a 200 stream (overloaded during the stream's start), a `message_delta` without usage (MiniMax's
 * Anthropic-compatible API: the output is estimated from the answer, not billed as message_start's placeholder 1 or
 * 0), unknown events, a stream broken after its text, or after `message_delta` (its final usage: billed as reported).
 * Raw node:http upstream; official Anthropic and openai clients on the served gateway.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

const ev = (event: string, data: Record<string, unknown>) => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
const messageStart = (usage: Record<string, number>) =>
  ev('message_start', { message: { id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-raw', content: [], stop_reason: null, stop_sequence: null, usage } });
const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(20);

/** A whole text answer: message_start, one text block in `pieces` deltas, message_delta (with `deltaUsage` if given), message_stop. */
function textStream(text: string, pieces: number, deltaUsage: Record<string, number> | undefined, startUsage: Record<string, number> = { input_tokens: 25, output_tokens: 1 }): string {
  const out: string[] = [messageStart(startUsage), ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), ev('ping', {})];
  const size = Math.ceil(text.length / pieces);
  for (let i = 0; i < text.length; i += size) out.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: text.slice(i, i + size) } }));
  out.push(ev('content_block_stop', { index: 0 }));
  out.push(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, ...(deltaUsage ? { usage: deltaUsage } : {}) }));
  out.push(ev('message_stop', {}));
  return out.join('');
}

let raw: RawUpstream;
let gw: SdkGateway;
beforeAll(async () => {
  raw = await startRawUpstream();
  const served = await servedOverWireUpstreams(
    (u) => [
      { name: 'claude-raw', engine: 'anthropic', baseURL: raw.url, model: 'claude-raw', apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools'], price: { input: 1, output: 2 } },
      { name: 'claude-pair', engine: 'anthropic', baseURL: raw.url, model: 'claude-raw', apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools'], price: { input: 1, output: 2 }, alias: 'pair', priority: 1 },
      wireDeployment(u, 'gem', { alias: 'pair', priority: 2, price: { input: 1, output: 2 } }),
    ],
    { routing: { strategy: 'priority', retries: { max: 0 } } },
  );
  gw = served.gw;
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 4 } });
});
afterAll(async () => {
  await gw?.close();
  await raw?.close();
});

function sse(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_raw' });
  res.end(body);
}

describe('an error event as the first event of a 200 stream (overloaded at the start)', () => {
  const overloaded = ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });

  it('with a fallback: the fallback answers (nothing was streamed yet)', async () => {
    raw.handle = (_req, res) => sse(res, overloaded);
    const { data: s, response } = await gw.openai().chat.completions.create({ model: 'pair', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    expect(response.headers.get('x-llmrr-model')).toBe('gem');
    expect(text).toBe('Echo: x');
  });

  it('without one: the Anthropic client gets an HTTP 529 overloaded_error, not a 200 stream', async () => {
    raw.handle = (_req, res) => sse(res, overloaded);
    const err = await gw
      .anthropic()
      .messages.create({ model: 'claude-raw', max_tokens: 50, messages: [{ role: 'user', content: 'x' }], stream: true })
      .then(
        async (s) => {
          for await (const _ of s) void _;
          return undefined;
        },
        (e: unknown) => e as { status?: number; error?: unknown },
      );
    expect(err, 'the request must fail').toBeDefined();
    expect(err!.status).toBe(529);
    expect(JSON.stringify(err!.error)).toContain('overloaded_error');
  });
});

describe('message_delta without usage (Anthropic-compatible APIs)', () => {
  for (const placeholder of [1, 0]) {
    it(`streamed (message_start output_tokens ${placeholder}${placeholder === 0 ? ', as MiniMax sends' : ''}): the output is estimated from the answer, for the client and the ledger; the prompt stays as reported`, async () => {
      raw.handle = (_req, res, body) => {
        if ((JSON.parse(body) as { stream?: boolean }).stream === true) sse(res, textStream(LONG, 10, undefined, { input_tokens: 25, output_tokens: placeholder }));
        else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-raw', content: [{ type: 'text', text: LONG }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 25, output_tokens: 200 } }));
        }
      };
      const a = await gw.anthropic().messages.create({ model: 'claude-raw', max_tokens: 500, messages: [{ role: 'user', content: 'x' }] }).withResponse();
      const { data: s, response } = await gw.anthropic().messages.create({ model: 'claude-raw', max_tokens: 500, messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
      let text = '';
      let reported: { output_tokens: number } | undefined;
      for await (const e of s) {
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
        if (e.type === 'message_delta') reported = e.usage;
      }
      expect(text).toBe(LONG);
      const rowA = await ledgerRow(gw, a.response.headers.get('x-request-id')!);
      const rowB = await ledgerRow(gw, response.headers.get('x-request-id')!);
      expect(rowA.outputTokens).toBe(200);
      expect(rowB.status).toBe('success');
      // ~225 tokens of text (the estimate: about 4 characters a token), not the placeholder.
      expect(rowB.outputTokens, `streamed row ${JSON.stringify(rowB)}`).toBeGreaterThan(100);
      expect(rowB.inputTokens).toBe(25);
      expect(reported?.output_tokens).toBe(rowB.outputTokens);
    });
  }

  it('unknown event types and deltas (added later by Anthropic) are skipped, the answer whole', async () => {
    raw.handle = (_req, res) => {
      const body = textStream('Hello world', 2, { output_tokens: 3 }).replace(
        ev('ping', {}),
        ev('ping', {}) + ev('content_block_delta', { index: 0, delta: { type: 'citations_delta', citation: { type: 'char_location', cited_text: 'x' } } }) + ev('message_annotation', { note: 'new' }),
      );
      sse(res, body);
    };
    const { data: s } = await gw.anthropic().messages.create({ model: 'claude-raw', max_tokens: 50, messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    let text = '';
    let stop: string | null | undefined;
    for await (const e of s) {
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      if (e.type === 'message_delta') stop = e.delta.stop_reason;
    }
    expect(text).toBe('Hello world');
    expect(stop).toBe('end_turn');
  });
});

describe('a stream that breaks after text: the delivered text is billed (message_start says output_tokens 1, as the real API does)', () => {
  /** message_start (output_tokens 1, as Anthropic sends), the text in 10 deltas, then an overloaded_error event. */
  function brokenAfterText(): string {
    const whole = textStream(LONG, 10, { output_tokens: 200 });
    const cut = whole.indexOf('event: content_block_stop');
    return whole.slice(0, cut) + ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
  }

  it('overloaded_error after the whole text: the row bills about the streamed text, not 1 output token', async () => {
    raw.handle = (_req, res) => sse(res, brokenAfterText());
    const { data: s, response } = await gw.openai().chat.completions.create({ model: 'claude-raw', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    let text = '';
    let error: unknown;
    try {
      for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    } catch (e) {
      error = e;
    }
    expect(error).toBeDefined();
    expect(text).toBe(LONG);
    const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
    expect(row.status).toBe('error');
    // ~900 characters were delivered (about 225 tokens by the gateway's own estimate): 1 token is not what was produced.
    expect(row.outputTokens, JSON.stringify(row)).toBeGreaterThan(100);
  });

  it('a client that leaves after the text: the aborted row bills about the streamed text, not 1 output token', async () => {
    raw.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const whole = textStream(LONG, 10, { output_tokens: 200 });
      // Everything but the end; then the upstream keeps the stream open.
      res.write(whole.slice(0, whole.indexOf('event: content_block_stop')));
    };
    const { data: s, response } = await gw.openai().chat.completions.create({ model: 'claude-raw', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    let text = '';
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (text === LONG) break;
    }
    const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
    expect(row.status).toBe('aborted');
    expect(row.outputTokens, JSON.stringify(row)).toBeGreaterThan(100);
  });
});

describe("a stream that breaks after message_delta (its final usage) and before message_stop: the output message_delta reported is billed, not an estimate", () => {
  /** The whole answer (input 1000, output 500 reported) up to message_stop, left out. */
  const untilStop = () => {
    const whole = textStream(LONG, 10, { output_tokens: 500 }, { input_tokens: 1000, output_tokens: 1 });
    return whole.slice(0, whole.indexOf('event: message_stop'));
  };

  it.each([
    ['ended cleanly without message_stop', false],
    ['connection cut', true],
  ])('%s: the error row has the 500 output tokens reported (about 225 by an estimate of the text)', async (_name, cut) => {
    raw.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (cut) res.write(untilStop(), () => res.socket?.destroy());
      else res.end(untilStop());
    };
    const stream = gw.anthropic().messages.stream({ model: 'claude-raw', max_tokens: 600, messages: [{ role: 'user', content: 'x' }] });
    const failure = await stream.done().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeDefined();
    const row = await ledgerRow(gw, (await stream.withResponse()).response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'error', inputTokens: 1000, outputTokens: 500 });
    expect(row.costUsd).toBeCloseTo((1000 * 1 + 500 * 2) / 1e6, 12);
  });

  it('a whole stream is billed once, as message_delta reported, and the client gets the same message_delta usage', async () => {
    raw.handle = (_req, res) => sse(res, `${untilStop()}${ev('message_stop', {})}`);
    const before = (await gw.harness.stores!.budgets.spent('acme', 'month')).spentUsd;
    const stream = gw.anthropic().messages.stream({ model: 'claude-raw', max_tokens: 600, messages: [{ role: 'user', content: 'x' }] });
    let deltaUsage: { output_tokens: number } | undefined;
    stream.on('streamEvent', (e) => {
      if (e.type === 'message_delta') deltaUsage = e.usage;
    });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: LONG })]);
    expect(deltaUsage).toMatchObject({ output_tokens: 500, input_tokens: 1000 });
    expect(message.usage).toMatchObject({ input_tokens: 1000, output_tokens: 500 });
    const row = await ledgerRow(gw, (await stream.withResponse()).response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', inputTokens: 1000, outputTokens: 500 });
    expect(row.costUsd).toBeCloseTo((1000 * 1 + 500 * 2) / 1e6, 12);
    // Charged to the budget once (not the usage part and the finish each).
    await vi.waitFor(async () => expect((await gw.harness.stores!.budgets.spent('acme', 'month')).spentUsd - before).toBeCloseTo(row.costUsd, 12), { timeout: 8000, interval: 20 });
  });
});
