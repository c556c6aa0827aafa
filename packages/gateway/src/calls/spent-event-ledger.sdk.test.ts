/**
 * What a failed streamed call was billed, as the router's `request:end` says it (`spent`, which core's OpenTelemetry
 * spans carry as `gen_ai.usage.*` and `llmrr.cost_usd`) and as the gateway's ledger row has it, agree: a client that
 * leaves mid-answer (the official openai client, aborted), and an upstream that breaks off mid-answer. Mock deployment
 * served over Node, memory stores.
 */
import type { RouterEvents } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway;
const ends = new Map<string, RouterEvents['request:end']>();

beforeAll(async () => {
  gw = await servedGateway({
    models: [
      mockModel('slow', { reply: 'one two three four five six seven eight nine ten eleven twelve', chunkDelayMs: 100 }),
      mockModel('broken', { reply: 'one two three four five six seven eight', failures: [{ code: 'provider_unavailable', afterChunks: 3, times: 100 }] }),
    ],
  });
  gw.harness.router.on('request:end', (e) => ends.set(e.requestId, e));
});
afterAll(async () => gw?.close());

async function expectAgree(id: string): Promise<void> {
  const row = await ledgerRow(gw, id);
  const end = await vi.waitFor(() => {
    const e = ends.get(id);
    if (!e) throw new Error(`no request:end for ${id} yet`);
    return e;
  });
  expect(end.error).toBeDefined();
  expect(row.costUsd).toBeGreaterThan(0);
  expect(end.spent).toBeDefined();
  expect(end.spent!.cost.totalUsd).toBeCloseTo(row.costUsd, 12);
  expect([end.spent!.usage.inputTokens, end.spent!.usage.outputTokens]).toEqual([row.inputTokens, row.outputTokens]);
}

describe("a failed stream's spend: the request:end event and the ledger agree", () => {
  it('a client that leaves mid-answer', async () => {
    const controller = new AbortController();
    const { data: stream, response } = await gw
      .openai()
      .chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'go' }], stream: true }, { signal: controller.signal })
      .withResponse();
    let texts = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) texts++;
        if (texts === 3) controller.abort();
      }
    } catch {
      // (The client's abort ends its iteration: with an error or without one, as the client decides.)
    }
    expect(texts).toBe(3);
    const id = response.headers.get('x-request-id')!;
    expect((await ledgerRow(gw, id)).status).not.toBe('success');
    await expectAgree(id);
  });

  it('an upstream that breaks off mid-answer', async () => {
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'go' }], stream: true }).withResponse();
    let text = '';
    await expect(
      (async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toThrow();
    expect(text).not.toBe('');
    await expectAgree(response.headers.get('x-request-id')!);
  });
});
