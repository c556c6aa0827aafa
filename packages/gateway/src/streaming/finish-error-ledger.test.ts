import type { GenerateResult, LanguageEngine, StreamPart, ToolCall } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, sseJson, type Harness } from '../test-support/harness.js';

// A stream that fails after its complete result (the encoder cannot send the finish: the result's tool calls
// contradict what was streamed) is ledgered as an error with the result's usage and cost, exactly once: for an
// escalated cascade, whose result already includes the weak step, the weak call is not added again (nor its
// tokens priced at the strong model's price). Through the gateway with real stores; the strong step is an
// engine whose stream sends a call's pieces and then a whole call under the same id with other arguments, so
// the result pairs the streamed call with arguments that cannot be completed.

const usage = { inputTokens: 40, outputTokens: 30, totalTokens: 70 };
const calls: ToolCall[] = [
  { id: 'c0', name: 'f', arguments: '{"b":2}' },
  { id: 'c0', name: 'f', arguments: '{"a":1}' },
];

const contradicting: LanguageEngine = {
  specVersion: 'v1',
  provider: 'custom',
  modelId: 'contradicting-1',
  capabilities: { streaming: true, tools: true },
  generate: async (): Promise<GenerateResult> => ({ text: 'ok ', toolCalls: calls, finishReason: 'tool-calls', usage }),
  async *stream(): AsyncIterable<StreamPart> {
    yield { type: 'text-delta', delta: 'ok ' };
    yield { type: 'tool-call-delta', index: 0, id: 'c0', name: 'f', argumentsDelta: '{"a":1}' };
    yield { type: 'tool-call', index: 1, toolCall: calls[0]! };
    yield { type: 'finish', finishReason: 'tool-calls', usage };
  },
};

describe('a stream whose finish cannot be sent after its complete result', () => {
  let h: Harness;
  let secret = '';

  beforeEach(async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('weak'), { name: 'strong', engine: 'custom', price: { input: 10, output: 20 }, capabilities: ['chat', 'streaming', 'tools'] }],
      routing: { cascades: [{ name: 'cas', weak: 'weak', strong: 'strong', verifier: 'escalate', threshold: 0.5 }] },
      routerOptions: { engines: { strong: contradicting }, verifiers: { escalate: () => 1 } },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  });
  afterEach(async () => {
    await h.close();
  });

  const chat = (model: string, stream: boolean) =>
    post(h.gateway, '/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });

  for (const model of ['strong', 'cas']) {
    it(`${model}: ledgered as an error with the same tokens and cost as the same answer not streamed`, async () => {
      const plain = await chat(model, false);
      expect(plain.status).toBe(200);
      const plainEntry = (await h.stores!.ledger.get(plain.headers.get('x-request-id')!))!;
      expect(plainEntry.status).toBe('success');
      if (model === 'cas') expect(plainEntry.inputTokens).toBeGreaterThan(usage.inputTokens);

      const res = await chat(model, true);
      const chunks = sseJson(await res.text());
      expect(chunks.at(-1)).toMatchObject({ error: { code: 'invalid_response' } });
      const entry = (await h.stores!.ledger.get(res.headers.get('x-request-id')!))!;
      expect(entry).toMatchObject({ status: 'error', errorCode: 'invalid_response', model, stream: true, inputTokens: plainEntry.inputTokens, outputTokens: plainEntry.outputTokens });
      expect(entry.costUsd).toBeCloseTo(plainEntry.costUsd, 12);
    });
  }
});
