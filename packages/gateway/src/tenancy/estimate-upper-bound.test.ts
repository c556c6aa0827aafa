/**
 * The budget's worst-case estimate must bound what a call costs ("the reservation really bounds
 * its cost", gateway README). `estimateInputTokens` once counted only `messageText` (text parts), so the prompt
 * tokens of an assistant turn's tool calls (their JSON arguments: a coding agent's file writes), of its
 * reasoning blocks (sent back to Anthropic), of images and of a json_schema response format counted 0 (the
 * tool definitions were the only non-text part counted) - below even core's own rough estimate of
 * the same request (`estimateRequestTokens`, about 4 characters a token), which the "upper bound" should
 * never be.
 */
import { estimateRequestTokens, type GenerateRequest } from '@llmrr/core';
import { startOpenAIWireServer } from '@llmrr/core/test';
import { describe, expect, it } from 'vitest';
import { createHarness, post } from '../test-support/harness.js';
import { estimateInputTokens } from './estimate.js';

/** About 16 KB of code, as a coding agent writes a file with a tool call. */
const FILE = Array.from({ length: 400 }, (_, i) => `export const value${i} = compute(${i}, "item-${i}");`).join('\n');
const ARGS = JSON.stringify({ path: 'src/values.ts', content: FILE });

describe('estimateInputTokens is an upper bound of the prompt', () => {
  it('counts an assistant turn\'s tool-call arguments (at least core\'s own estimate of the request)', () => {
    const request: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Write the values file.' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'write_file', arguments: ARGS }] },
        { role: 'tool', toolCallId: 'call_1', content: 'ok' },
        { role: 'user', content: 'Thanks. Now summarize it.' },
      ],
    };
    expect(estimateInputTokens(request)).toBeGreaterThanOrEqual(estimateRequestTokens(request));
  });

  it('counts images (at least core\'s own estimate of the request)', () => {
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is here?' }, ...Array.from({ length: 4 }, () => ({ type: 'image' as const, url: 'https://example.test/cat.png' }))] }],
    };
    expect(estimateInputTokens(request)).toBeGreaterThanOrEqual(estimateRequestTokens(request));
  });

  it('counts a json_schema response format (at least core\'s own estimate of the request)', () => {
    const properties = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field_${i}`, { type: 'string', description: `The value of field number ${i} of the record.` }]));
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'Fill the record.' }],
      responseFormat: { type: 'json_schema', name: 'record', schema: { type: 'object', properties, required: Object.keys(properties) } },
    };
    expect(estimateInputTokens(request)).toBeGreaterThanOrEqual(estimateRequestTokens(request));
  });

  it('counts reasoning blocks sent back (at least core\'s own estimate of their text)', () => {
    const thinking = 'Let me think about the structure of this file carefully. '.repeat(200);
    const request: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Plan it.' },
        { role: 'assistant', content: 'Here is the plan.', reasoning: [{ type: 'reasoning', text: thinking, signature: 'sig' }] },
        { role: 'user', content: 'Go on.' },
      ],
    };
    const withoutReasoning: GenerateRequest = { messages: [request.messages[0]!, { role: 'assistant', content: 'Here is the plan.' }, request.messages[2]!] };
    // The thinking text alone is ~2,900 tokens at 4 characters a token; it adds nothing to the estimate.
    expect(estimateInputTokens(request) - estimateInputTokens(withoutReasoning)).toBeGreaterThanOrEqual(Math.floor(thinking.length / 4));
  });
});

describe('a budget against calls whose history carries a large tool call (real OpenAI-wire upstream)', () => {
  it('concurrent calls do not spend beyond the budget', async () => {
    // The upstream reports the prompt it received at about 4 characters a token, as providers bill it.
    const upstream = await startOpenAIWireServer({
      script: (req) => ({ text: 'Done.', usage: { prompt_tokens: Math.ceil(req.rawBody.length / 4), completion_tokens: 2 } }),
    });
    const h = await createHarness({
      stores: 'memory',
      models: [{ name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'sk-test', model: 'gpt-test', price: { input: 1_000, output: 1_000 } }],
    });
    try {
      const budgetUsd = 10;
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: budgetUsd, period: 'month' } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'agent' });
      const body = {
        model: 'remote',
        max_tokens: 16,
        messages: [
          { role: 'user', content: 'Write the values file.' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: ARGS } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
          { role: 'user', content: 'Thanks. Now summarize it.' },
        ],
      };
      const responses = await Promise.all(Array.from({ length: 10 }, () => post(h.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` })));
      const statuses = responses.map((r) => r.status);
      await Promise.all(responses.map((r) => r.text()));
      const ledger = await h.stores!.ledger.summary({ tenantId: 'acme' });
      const spent = (await h.stores!.budgets.spent('acme', 'month')).spentUsd;
      // One call costs about $5.8 (5,800 prompt tokens at $1,000 per 1M): a $10 budget fits one, not ten.
      const admitted = statuses.filter((s) => s === 200).length;
      expect(spent, `budget spent $${spent.toFixed(2)} of $${budgetUsd} with ${admitted} of 10 calls admitted`).toBeLessThanOrEqual(budgetUsd);
      expect(ledger.costUsd).toBeLessThanOrEqual(budgetUsd);
    } finally {
      await h.close();
      await upstream.close();
    }
  });

  it('concurrent calls do not take more tokens per minute than the tpm limit', async () => {
    const upstream = await startOpenAIWireServer({
      script: (req) => ({ text: 'Done.', delayMs: 200, usage: { prompt_tokens: Math.ceil(req.rawBody.length / 4), completion_tokens: 2 } }),
    });
    const h = await createHarness({
      stores: 'memory',
      models: [{ name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'sk-test', model: 'gpt-test', price: { input: 1, output: 1 } }],
    });
    try {
      const tpm = 10_000;
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { tpm } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'agent' });
      const body = {
        model: 'remote',
        max_tokens: 16,
        messages: [
          { role: 'user', content: 'Write the values file.' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'write_file', arguments: ARGS } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
          { role: 'user', content: 'Thanks. Now summarize it.' },
        ],
      };
      const responses = await Promise.all(Array.from({ length: 10 }, () => post(h.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` })));
      await Promise.all(responses.map((r) => r.text()));
      const admitted = responses.filter((r) => r.status === 200).length;
      const tokens = (await h.stores!.ledger.summary({ tenantId: 'acme' }));
      const used = tokens.inputTokens + tokens.outputTokens;
      // Each call is about 5,800 tokens: a full 10,000-token bucket admits one at once, not ten.
      expect(used, `${used} tokens taken at once by ${admitted} of 10 calls under tpm ${tpm}`).toBeLessThanOrEqual(tpm);
    } finally {
      await h.close();
      await upstream.close();
    }
  });
});
