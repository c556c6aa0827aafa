/**
 * A cascade through the gateway: the official `openai` client asks for the virtual model `math-cascade`;
 * two local servers speaking the OpenAI wire format are its weak and strong models. The ledger records what
 * the router reports: both calls' tokens and cost.
 */
import OpenAI from 'openai';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, serveWithKey, type Harness } from '../test-support/harness.js';
import { mathCascade, QUESTION, WEAK_COST, WEAK_USAGE, WRONG } from '../test-support/math-cascade.js';
import type { ServedGateway } from './serve-gateway.js';

const RIGHT = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 18 dollars.\n#### 18';
const STRONG = 'Janet sells 16 - 3 - 4 = 9 eggs for 9 * 2 = 18 dollars.\n#### 18';
const STRONG_USAGE = { prompt_tokens: 41, completion_tokens: 25, total_tokens: 66 };
// USD per 1M tokens: strong 10 / 30 (the weak model's cost: WEAK_COST).
const STRONG_COST = (41 * 10 + 25 * 30) / 1e6;

let weak: OpenAIWireServer;
let strong: OpenAIWireServer;
let h: Harness;
let served: ServedGateway;
let secret: string;

beforeAll(async () => {
  weak = await startOpenAIWireServer();
  strong = await startOpenAIWireServer({ script: { text: STRONG, usage: STRONG_USAGE, streamUsage: 'always' } });
  h = await createHarness({
    stores: 'memory',
    ...mathCascade(weak, strong),
    routerOptions: { env: {} },
  });
  ({ secret, served } = await serveWithKey(h));
});

afterAll(async () => {
  await served?.close(1000);
  await h?.close();
  await Promise.all([weak?.close(), strong?.close()]);
});

beforeEach(() => {
  weak.requests.length = 0;
  strong.requests.length = 0;
});

const client = () => new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
const messages = [{ role: 'user' as const, content: QUESTION }];

async function ledgerEntry(requestId: string | null | undefined) {
  expect(requestId).toBeTruthy();
  return h.stores!.ledger.get(requestId!);
}

describe('a cascade through the gateway, with the official openai client', () => {
  it('/v1/models lists the cascade', async () => {
    const ids = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids).toEqual(['mixtral', 'gpt-4', 'math-cascade']);
  });

  it('a wrong weak answer escalates: the strong answer, usage of both calls, and a ledger cost of weak + strong', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const { data: res, response } = await client().chat.completions.create({ model: 'math-cascade', messages }).withResponse();
    expect(res.choices[0]!.message.content).toBe(STRONG);
    expect(res.usage).toMatchObject({ prompt_tokens: 81, completion_tokens: 45, total_tokens: 126 });
    // What the cascade did, for the client: a header and the body's llmrr field.
    expect(response.headers.get('x-llmrr-cascade')).toBe('escalated');
    const info = (res as unknown as { llmrr: { cascade: Record<string, unknown> } }).llmrr.cascade;
    expect(info).toMatchObject({ name: 'math-cascade', verifier: 'arithmetic', threshold: 1, escalated: true, weak_deployment: 'mixtral', strong_deployment: 'gpt-4' });
    expect(info['weak_cost_usd']).toBeCloseTo(WEAK_COST, 12);
    expect(weak.requests).toHaveLength(1);
    expect(strong.requests).toHaveLength(1);
    const entry = await ledgerEntry(response.headers.get('x-request-id'));
    expect(entry).toMatchObject({ status: 'success', model: 'math-cascade', deployment: 'gpt-4', inputTokens: 81, outputTokens: 45, tenantId: 'acme' });
    expect(entry!.costUsd).toBeCloseTo(WEAK_COST + STRONG_COST, 12);
  });

  it('a correct weak answer is served without calling the strong model; the ledger holds the weak cost', async () => {
    weak.setScript({ text: RIGHT, usage: WEAK_USAGE });
    const { data: res, response } = await client().chat.completions.create({ model: 'math-cascade', messages }).withResponse();
    expect(res.choices[0]!.message.content).toBe(RIGHT);
    expect(res.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 20 });
    expect(response.headers.get('x-llmrr-cascade')).toBe('accepted');
    expect((res as unknown as { llmrr: { cascade: { escalated: boolean; strong_deployment?: string } } }).llmrr.cascade).toMatchObject({ escalated: false });
    expect(strong.requests).toHaveLength(0);
    const entry = await ledgerEntry(response.headers.get('x-request-id'));
    expect(entry).toMatchObject({ status: 'success', model: 'math-cascade', deployment: 'mixtral' });
    expect(entry!.costUsd).toBeCloseTo(WEAK_COST, 12);
  });

  it('streamed: the escalated answer arrives as chunks, the usage chunk and the ledger count both calls', async () => {
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const { data: stream, response } = await client()
      .chat.completions.create({ model: 'math-cascade', messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    let escalated: boolean | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        text += delta;
        chunks++;
      }
      if (chunk.usage) usage = chunk.usage;
      const llmrr = (chunk as unknown as { llmrr?: { cascade?: { escalated: boolean } } }).llmrr;
      if (llmrr?.cascade) escalated = llmrr.cascade.escalated;
    }
    expect(escalated).toBe(true);
    expect(text).toBe(STRONG);
    expect(chunks).toBeGreaterThan(1);
    expect(usage).toMatchObject({ prompt_tokens: 81, completion_tokens: 45, total_tokens: 126 });
    expect(response.headers.get('x-llmrr-model')).toBe('gpt-4');
    const entry = await ledgerEntry(response.headers.get('x-request-id'));
    expect(entry).toMatchObject({ status: 'success', stream: true, model: 'math-cascade', inputTokens: 81, outputTokens: 45 });
    expect(entry!.costUsd).toBeCloseTo(WEAK_COST + STRONG_COST, 12);
  });

  describe('a cascade call that fails after the weak step still ledgers the weak call', () => {
    const STRONG_SCRIPT = { text: STRONG, usage: STRONG_USAGE, streamUsage: 'always' as const };
    afterAll(() => strong.setScript(STRONG_SCRIPT));

    async function settledEntry(requestId: string | null | undefined) {
      expect(requestId).toBeTruthy();
      for (let i = 0; i < 200; i++) {
        const entry = await h.stores!.ledger.get(requestId!);
        if (entry) return entry;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no ledger record for ${requestId!} after 2 s`);
    }

    it('the strong call is refused: the client gets its error, the ledger the weak cost', async () => {
      weak.setScript({ text: WRONG, usage: WEAK_USAGE });
      strong.setScript({ error: { status: 400, message: 'strong refuses', code: 'bad_request' } });
      const error = await client()
        .chat.completions.create({ model: 'math-cascade', messages })
        .then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      const apiError = error as InstanceType<typeof OpenAI.APIError>;
      expect(apiError.status).toBe(400);
      expect(strong.requests).toHaveLength(1);
      const entry = await settledEntry(apiError.headers?.get('x-request-id'));
      expect(entry).toMatchObject({ status: 'error', model: 'math-cascade', inputTokens: 40, outputTokens: 20 });
      expect(entry.costUsd).toBeCloseTo(WEAK_COST, 12);
    });

    it('streamed, the strong stream breaks off: the ledger holds the weak cost plus the strong call\'s partial use', async () => {
      weak.setScript({ text: WRONG, usage: WEAK_USAGE });
      strong.setScript({ text: STRONG, usage: null, chunks: 6, cutAfterChunks: 3 });
      const { data: stream, response } = await client()
        .chat.completions.create({ model: 'math-cascade', messages, stream: true })
        .withResponse();
      let text = '';
      const broke = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })().then(() => false, () => true);
      expect(broke).toBe(true);
      expect(text.length).toBeGreaterThan(0);
      const entry = await settledEntry(response.headers.get('x-request-id'));
      expect(entry).toMatchObject({ status: 'error', model: 'math-cascade', deployment: 'gpt-4' });
      expect(entry.inputTokens).toBeGreaterThan(40);
      expect(entry.outputTokens).toBeGreaterThan(20);
      expect(entry.costUsd).toBeGreaterThan(WEAK_COST);
    });

    it('streamed, the client leaves during the strong stream: the aborted record still counts the weak call', async () => {
      weak.setScript({ text: WRONG, usage: WEAK_USAGE });
      strong.setScript({ text: STRONG, usage: null, chunks: 6, chunkDelayMs: 200 });
      const controller = new AbortController();
      const { data: stream, response } = await client()
        .chat.completions.create({ model: 'math-cascade', messages, stream: true }, { signal: controller.signal })
        .withResponse();
      const read = (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) controller.abort();
      })().catch(() => {});
      await read;
      const entry = await settledEntry(response.headers.get('x-request-id'));
      expect(entry).toMatchObject({ status: 'aborted', model: 'math-cascade' });
      expect(entry.inputTokens).toBeGreaterThanOrEqual(40);
      expect(entry.costUsd).toBeGreaterThanOrEqual(WEAK_COST);
    });
  });
});
