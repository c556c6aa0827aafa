/**
 * The budget's worst-case estimate must bound what a call costs ("the reservation really bounds
 * its cost", gateway README). `estimateInputTokens` once counted only `messageText` (text parts), so the prompt
 * tokens of an assistant turn's tool calls (their JSON arguments: a coding agent's file writes), of its
 * reasoning blocks (sent back to Anthropic), of images and of a json_schema response format counted 0 (the
 * tool definitions were the only non-text part counted) - below even core's own rough estimate of
 * the same request (`estimateRequestTokens`, about 4 characters a token), which the "upper bound" should
 * never be.
 */
import Anthropic from '@anthropic-ai/sdk';
import { estimateRequestTokens, type GenerateRequest } from '@llmrr/core';
import { startAnthropicWireServer, startOpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { messagesToGenerateRequest } from '../anthropic/to-generate-request.js';
import { serveGateway } from '../node/serve-gateway.js';
import { chatToGenerateRequest } from '../openai/to-generate-request.js';
import { createHarness, post } from '../test-support/harness.js';
import { startRawUpstream } from '../test-support/raw-upstream.js';
import { estimateInputTokens, TOOL_PROMPT_TOKENS } from './estimate.js';

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

/**
 * Text a byte-level BPE tokenizer makes one token a byte of: cl100k_base and o200k_base (js-tiktoken 1.x) split
 * "a\nb\nc\n..." into a token per letter and per newline (the pre-tokenizer keeps letters and line breaks apart), so
 * this 2,000-byte text is 2,000 tokens, not the ~500 of English prose at 4 bytes a token.
 */
/**
 * Holds each upstream answer until every one of `calls` has reached the upstream (`arrive`) or been refused
 * (`refuse`): all reservations are taken before any call settles, as for calls arriving together.
 */
function arrivalGate(calls: number): { readonly arrived: number; arrive(): Promise<void>; refuse(): void } {
  let arrived = 0;
  let refused = 0;
  let open = false;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    if (open || arrived + refused < calls) return;
    open = true;
    for (const go of waiting.splice(0)) go();
  };
  return {
    get arrived() {
      return arrived;
    },
    arrive: () => {
      arrived++;
      return new Promise<void>((go) => {
        if (open) return go();
        waiting.push(go);
        release();
      });
    },
    refuse: () => {
      refused++;
      release();
    },
  };
}

const BYTE_TOKENS_TEXT = Array.from({ length: 1_000 }, (_, i) => `${String.fromCharCode(97 + (i % 26))}\n`).join('');

describe('a budget against concurrent chat calls whose text is one token a byte (openai client, served gateway)', () => {
  it('settles no more than the budget, whatever the calls were billed', async () => {
    const calls = 10;
    const gate = arrivalGate(calls);
    // An OpenAI-wire upstream billing what such text costs: one token a byte of each message's content, plus
    // OpenAI's framing (3 a message, 3 priming the reply).
    const upstream = await startRawUpstream((_req, res, raw) => {
      const { messages } = JSON.parse(raw) as { messages: Array<{ content: string }> };
      let prompt = 3;
      for (const m of messages) prompt += 3 + Buffer.byteLength(m.content);
      const answer = () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: `chatcmpl-${gate.arrived}`,
            object: 'chat.completion',
            created: 1,
            model: 'gpt-test',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
            usage: { prompt_tokens: prompt, completion_tokens: 1, total_tokens: prompt + 1 },
          }),
        );
      void gate.arrive().then(answer);
    });
    const h = await createHarness({
      stores: 'memory',
      models: [{ name: 'remote', engine: 'openai-compatible', baseURL: `${upstream.url}/v1`, apiKey: 'sk-test', model: 'gpt-test', price: { input: 1_000, output: 1_000 } }],
    });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      // One call is billed 2,006 prompt tokens and 1 output token: $2.007 at $1,000 per 1M. A $10 budget fits four.
      const budgetUsd = 10;
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: budgetUsd, period: 'month' } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
      const statuses = await Promise.all(
        Array.from({ length: calls }, () =>
          client.chat.completions.create({ model: 'remote', max_tokens: 1, messages: [{ role: 'user', content: BYTE_TOKENS_TEXT }] }).then(
            () => 200,
            (e: unknown) => {
              gate.refuse();
              return (e as { status?: number }).status;
            },
          ),
        ),
      );
      const admitted = statuses.filter((s) => s === 200).length;
      const { spentUsd, reservedUsd } = await h.stores!.budgets.spent('acme', 'month');
      expect(spentUsd, `budget spent $${spentUsd.toFixed(3)} of $${budgetUsd} by ${admitted} of ${calls} calls`).toBeLessThanOrEqual(budgetUsd);
      expect({ admitted, refusedForBudget: statuses.filter((s) => s === 402).length, reservedUsd }).toEqual({ admitted: 4, refusedForBudget: calls - 4, reservedUsd: 0 });
      expect((await h.stores!.ledger.summary({ tenantId: 'acme' })).costUsd).toBeCloseTo(spentUsd, 9);
    } finally {
      await served.close(1000);
      await h.close();
      await upstream.close();
    }
  });
});

/**
 * Tokens a provider bills that the request does not carry. Anthropic's "Tool use pricing and tokens": with tools it
 * adds a tool-use system prompt of 159 to 530 tokens by model and tool_choice (346 for auto/none on the Claude 4
 * models), and core's Anthropic engine answers a JSON response format through a forced tool (its own name and
 * description), which pays that prompt too.
 */
describe('the bound of the hidden tool-use prompt and of JSON answer formats', () => {
  const user = { role: 'user' as const, content: 'Weather in Oslo?' };
  const tool = { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
  const plain = estimateInputTokens({ messages: [user] });

  it('adds the tool prompt once for tools, whatever their number, on top of their schemas', () => {
    const one = estimateInputTokens({ messages: [user], tools: [tool] });
    const two = estimateInputTokens({ messages: [user], tools: [tool, { ...tool, name: 'get_time' }] });
    expect(one - plain).toBe(TOOL_PROMPT_TOKENS + Buffer.byteLength(JSON.stringify([tool])));
    expect(two - plain).toBe(TOOL_PROMPT_TOKENS + Buffer.byteLength(JSON.stringify([tool, { ...tool, name: 'get_time' }])));
    // Above the largest documented figure (Claude 3 Opus, auto: 530).
    expect(TOOL_PROMPT_TOKENS).toBeGreaterThan(530);
    expect(estimateInputTokens({ messages: [user], tools: [] })).toBe(plain + 2);
  });

  it('adds it, and the forced tool\'s text, for a json_object or json_schema format; once with tools', () => {
    const object = estimateInputTokens({ messages: [user], responseFormat: { type: 'json_object' } }) - plain;
    // The forced tool of core's Anthropic engine: its name, instruction and schema are under 256 bytes.
    expect(object).toBeGreaterThanOrEqual(TOOL_PROMPT_TOKENS + 'json_answer'.length + 'Give your complete answer as a JSON object: the input of this tool is the answer.'.length);
    const schema = { type: 'object', properties: { temperature: { type: 'number' } } };
    const format = { type: 'json_schema' as const, name: 'reading', description: 'The reading of the station.', schema };
    const json = estimateInputTokens({ messages: [user], responseFormat: format }) - plain;
    expect(json - object).toBe(Buffer.byteLength(JSON.stringify(schema)) + 'reading'.length + 'The reading of the station.'.length);
    const both = estimateInputTokens({ messages: [user], tools: [tool], responseFormat: format }) - plain;
    expect(both).toBe(json + Buffer.byteLength(JSON.stringify([tool])));
    expect(estimateInputTokens({ messages: [user], responseFormat: { type: 'text' } })).toBe(plain);
  });

  it('counts a /v1/messages output_config.format (sent as it is) at least as a chat json_schema format, and thinking', () => {
    // A 4 KB output schema (80 string properties with descriptions), as an extraction call sends.
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 80; i++) properties[`field_${i}`] = { type: 'string', description: `The value of field number ${i} as written in the document.` };
    const schema = { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
    const bytes = Buffer.byteLength(JSON.stringify(schema));
    const body = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'Extract.' }] };
    type Body = Parameters<typeof messagesToGenerateRequest>[0];
    const messages = messagesToGenerateRequest({ ...body, output_config: { format: { type: 'json_schema', schema } } } as Body);
    const plainMessages = messagesToGenerateRequest(body as Body);
    // The schema reaches the provider (verbatim for an Anthropic deployment).
    expect(JSON.stringify(messages.providerOptions)).toContain('field_79');
    const chat = chatToGenerateRequest({ ...body, model: 'gpt', response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } } as Parameters<typeof chatToGenerateRequest>[0]);
    expect(estimateInputTokens(chat) - estimateInputTokens(plainMessages)).toBeGreaterThanOrEqual(bytes + TOOL_PROMPT_TOKENS);
    expect(estimateInputTokens(messages) - estimateInputTokens(plainMessages), `a ${bytes}-byte schema sent to the provider`).toBeGreaterThanOrEqual(bytes + TOOL_PROMPT_TOKENS);
    // Thinking given as it is (an Anthropic deployment gets it verbatim): its bytes, no tool prompt.
    const thinking = messagesToGenerateRequest({ ...body, thinking: { type: 'adaptive' } } as Body);
    expect(thinking.providerOptions).toBeDefined();
    expect(estimateInputTokens(thinking) - estimateInputTokens(plainMessages)).toBe(Buffer.byteLength(JSON.stringify(thinking.providerOptions)));
  });
});

describe('a budget against concurrent /v1/messages calls with one small tool (anthropic client, served gateway)', () => {
  it('settles no more than the budget, the tool-use system prompt included', async () => {
    /** Anthropic's documented tool-use system prompt, tool_choice auto or none (Claude 4 family). */
    const toolUseSystemPrompt = 346;
    const calls = 10;
    const gate = arrivalGate(calls);
    // An Anthropic-wire upstream that bills as Anthropic documents: the tool-use system prompt plus the request's text
    // and tool schema at a generous 4 bytes a token (not one a byte: even typical text overran the bound).
    const upstream = await startAnthropicWireServer({
      apiKey: 'sk-ant-up',
      handler: async (r) => {
        const body = r.body as { messages: unknown; tools?: unknown };
        const prompt = toolUseSystemPrompt + Math.ceil(Buffer.byteLength(JSON.stringify(body.messages)) / 4) + Math.ceil(Buffer.byteLength(JSON.stringify(body.tools ?? [])) / 4);
        await gate.arrive();
        return { content: 'It is sunny.', usage: { input_tokens: prompt, output_tokens: 1 } };
      },
    });
    const h = await createHarness({
      stores: 'memory',
      models: [{ name: 'claude', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: upstream.url, apiKey: 'sk-ant-up', price: { input: 1_000, output: 1_000 } }],
    });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const budgetUsd = 1;
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: budgetUsd, period: 'month' } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const client = new Anthropic({ baseURL: served.url, apiKey: secret, maxRetries: 0 });
      const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
      const statuses = await Promise.all(
        Array.from({ length: calls }, () =>
          client.messages.create({ model: 'claude', max_tokens: 1, tools, messages: [{ role: 'user', content: 'Weather in Oslo?' }] }).then(
            () => 200,
            (e: unknown) => {
              gate.refuse();
              return (e as { status?: number }).status;
            },
          ),
        ),
      );
      const admitted = statuses.filter((s) => s === 200).length;
      const { spentUsd } = await h.stores!.budgets.spent('acme', 'month');
      expect(spentUsd, `budget spent $${spentUsd.toFixed(3)} of $${budgetUsd} by ${admitted} of ${calls} calls`).toBeLessThanOrEqual(budgetUsd);
      // One call is billed 346 + about 30 tokens: $0.38 at $1,000 per 1M; its bound (about 730 tokens) is reserved, so one is admitted.
      expect(admitted).toBeGreaterThanOrEqual(1);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 402)).toBe(true);
    } finally {
      await served.close(1000);
      await h.close();
      await upstream.close();
    }
  });
});
