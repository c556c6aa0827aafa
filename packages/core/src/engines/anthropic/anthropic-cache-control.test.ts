import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { CacheControl, ChatMessage, GenerateRequest } from '../../spec/messages.js';
import { collect } from '../../test/async.test-helpers.js';
import { EXTENDED_CACHE_TTL_BETA } from './anthropic-cache-control.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// Prompt-cache breakpoints on the wire, against a local peer speaking Anthropic's Messages API: the exact
// upstream JSON for each case, and the limits of the prompt-caching guide
// (platform.claude.com/docs/en/build-with-claude/prompt-caching): 4 marks at most (the automatic one included),
// 1-hour entries before 5-minute ones, no mark on thinking blocks or empty text.

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const m5: CacheControl = { type: 'ephemeral' };
const m1h: CacheControl = { type: 'ephemeral', ttl: '1h' };
const wire5 = { type: 'ephemeral' };
const wire5m = { type: 'ephemeral', ttl: '5m' };
const wire1h = { type: 'ephemeral', ttl: '1h' };

const last = () => wire.server.requests.at(-1)!;

async function send(request: GenerateRequest, extra: Partial<ModelConfigInput> = {}, headers?: Record<string, string>): Promise<Record<string, unknown>> {
  await engine(extra).generate(request, headers ? { headers } : {});
  return lastBody();
}

const tool = (name: string, cacheControl?: CacheControl) => ({ name, parameters: { type: 'object' }, ...(cacheControl ? { cacheControl } : {}) });
const wireTool = (name: string, cache_control?: object) => ({ name, input_schema: { type: 'object' }, ...(cache_control ? { cache_control } : {}) });

describe('anthropic prompt caching: where the marks land', () => {
  it('sends a request without cacheControl exactly as before: system string, no cache_control, no beta header', async () => {
    const body = await send({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Answer in English.' },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', url: 'https://example.com/a.png' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'a', arguments: '{}' }] },
        { role: 'tool', toolCallId: 't1', content: '4' },
      ],
      tools: [tool('a')],
    });
    expect(body).toEqual({
      model: 'claude-test-1',
      max_tokens: 4096,
      system: 'Be brief.\n\nAnswer in English.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'a', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '4' }] },
      ],
      tools: [wireTool('a')],
      stream: false,
    });
    expect(last().headers['anthropic-beta']).toBeUndefined();
  });

  it('sends system as text blocks, one per system message, when one carries a breakpoint (empty ones left out)', async () => {
    const body = await send({
      messages: [
        { role: 'system', content: 'Long instructions.', cacheControl: m5 },
        { role: 'system', content: '', cacheControl: m5 },
        { role: 'system', content: 'Today is Thursday.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(body.system).toEqual([
      { type: 'text', text: 'Long instructions.', cache_control: wire5 },
      { type: 'text', text: 'Today is Thursday.' },
    ]);
    // Only an empty system message marked: nothing to mark, the string form stays.
    const plain = await send({ messages: [{ role: 'system', content: 'A' }, { role: 'system', content: '', cacheControl: m5 }, { role: 'user', content: 'Hi' }] });
    expect(plain.system).toBe('A');
    expect(JSON.stringify(plain)).not.toContain('cache_control');
  });

  it('marks tools, user parts, the last block of user/assistant/tool messages, never a thinking block', async () => {
    const body = await send({
      tools: [tool('a'), tool('b', m5)],
      messages: [
        // Message-level: the last block (the image); the text part has none.
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', url: 'https://example.com/a.png' }], cacheControl: m5 },
        // Thinking + tool_use: the mark lands on the tool_use block.
        {
          role: 'assistant',
          content: null,
          reasoning: [{ type: 'reasoning', text: 'hmm', signature: 'sig-1' }],
          toolCalls: [{ id: 't1', name: 'a', arguments: '{"q":1}' }],
          cacheControl: m5,
        },
        { role: 'tool', toolCallId: 't1', content: '4', cacheControl: m5 },
      ],
    });
    expect(body.tools).toEqual([wireTool('a'), wireTool('b', wire5)]);
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' }, cache_control: wire5 },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig-1' },
          { type: 'tool_use', id: 't1', name: 'a', input: { q: 1 }, cache_control: wire5 },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '4', cache_control: wire5 }] },
    ]);
  });

  it('puts part-level marks on their blocks (a part mark wins over the message mark); skips empty text and marks on thinking-only turns', async () => {
    const body = await send({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'doc', cacheControl: m1h },
            { type: 'text', text: '', cacheControl: m5 },
            { type: 'text', text: 'question', cacheControl: m1h },
          ],
          cacheControl: m5,
        },
        { role: 'assistant', content: 'Sure.', reasoning: [{ type: 'reasoning', text: 'ok', signature: 'sig-2' }], cacheControl: m1h },
        { role: 'user', content: 'next' },
        { role: 'assistant', content: null, reasoning: [{ type: 'reasoning', text: 'only thinking', signature: 'sig-3' }], cacheControl: m1h },
        { role: 'tool', toolCallId: 't9', content: '', cacheControl: m1h },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'doc', cache_control: wire1h },
          { type: 'text', text: 'question', cache_control: wire1h },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'ok', signature: 'sig-2' },
          { type: 'text', text: 'Sure.', cache_control: wire1h },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'next' }] },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'only thinking', signature: 'sig-3' }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't9', content: '' }] },
    ]);
    expect(last().headers['anthropic-beta']).toBe(EXTENDED_CACHE_TTL_BETA);
  });
});

describe('anthropic prompt caching: limits', () => {
  const turns = (n: number, mark: CacheControl): ChatMessage[] =>
    Array.from({ length: n }, (_, i): ChatMessage => (i % 2 === 0 ? { role: 'user', content: `u${i}`, cacheControl: mark } : { role: 'assistant', content: `a${i}`, cacheControl: mark }));

  it('keeps the last 4 breakpoints in render order (tools -> system -> messages) and drops the earliest', async () => {
    const body = await send({
      tools: [tool('a', m5), tool('b', m5)],
      messages: [{ role: 'system', content: 'S', cacheControl: m5 }, ...turns(3, m5)],
    });
    expect(body.tools).toEqual([wireTool('a'), wireTool('b')]);
    expect(body.system).toEqual([{ type: 'text', text: 'S', cache_control: wire5 }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'u0', cache_control: wire5 }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a1', cache_control: wire5 }] },
      { role: 'user', content: [{ type: 'text', text: 'u2', cache_control: wire5 }] },
    ]);
    expect(JSON.stringify(body).split('cache_control').length - 1).toBe(4);
  });

  it('degrades a 1-hour breakpoint after a 5-minute one to 5 minutes (and sends no beta header when no 1h remains)', async () => {
    const body = await send({
      tools: [tool('a', m5)],
      messages: [{ role: 'system', content: 'S', cacheControl: m1h }, { role: 'user', content: 'Hi', cacheControl: m1h }],
    });
    expect(body.tools).toEqual([wireTool('a', wire5)]);
    expect(body.system).toEqual([{ type: 'text', text: 'S', cache_control: wire5m }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: wire5m }] }]);
    expect(last().headers['anthropic-beta']).toBeUndefined();
  });

  it('keeps 1-hour breakpoints before 5-minute ones as they are and sends the extended TTL beta', async () => {
    const body = await send({
      tools: [tool('a', m1h)],
      messages: [{ role: 'system', content: 'S', cacheControl: m1h }, { role: 'user', content: 'Hi', cacheControl: { type: 'ephemeral', ttl: '5m' } }],
    });
    expect(body.tools).toEqual([wireTool('a', wire1h)]);
    expect(body.system).toEqual([{ type: 'text', text: 'S', cache_control: wire1h }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: wire5m }] }]);
    expect(last().headers['anthropic-beta']).toBe(EXTENDED_CACHE_TTL_BETA);
  });

  it('dropping the earliest marks first can leave a 1-hour mark valid', async () => {
    // 5m, then four 1h: the 5m tool mark is the one dropped, so the 1h marks stay 1h.
    const body = await send({ tools: [tool('a', m5)], messages: [{ role: 'system', content: 'S', cacheControl: m1h }, ...turns(3, m1h)] });
    expect(body.tools).toEqual([wireTool('a')]);
    expect(JSON.stringify(body).split('"ttl":"1h"').length - 1).toBe(4);
  });

  it('counts marks given verbatim through providerOptions.anthropic (system blocks) without modifying the request', async () => {
    const system = [
      { type: 'text', text: 'A', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'B', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ];
    const request: GenerateRequest = { messages: turns(2, m5), tools: [tool('a', m5)], providerOptions: { anthropic: { system } } };
    const before = structuredClone(request);
    const body = await send(request);
    // 5 marks: the tool's (the earliest) is dropped; B's 1h after A's 5m becomes 5m.
    expect(body.tools).toEqual([wireTool('a')]);
    expect(body.system).toEqual([
      { type: 'text', text: 'A', cache_control: wire5 },
      { type: 'text', text: 'B', cache_control: wire5m },
    ]);
    expect(request).toEqual(before);
    // A verbatim field of the wrong shape goes as it is (Anthropic judges it), without breaking the fitting.
    const odd = await send({ messages: [{ role: 'user', content: 'Hi', cacheControl: m5 }], providerOptions: { anthropic: { tools: { not: 'a list' } } } });
    expect(odd.tools).toEqual({ not: 'a list' });
  });

  it('merges the 1h beta with anthropic-beta values of the config and the call into one header', async () => {
    await send(
      { messages: [{ role: 'user', content: 'Hi', cacheControl: m1h }] },
      { headers: { 'Anthropic-Beta': 'tools-2024-04-04' } },
      { 'anthropic-beta': `files-api-2025-04-14, ${EXTENDED_CACHE_TTL_BETA}`, 'x-trace': 't1' },
    );
    expect(last().headers['anthropic-beta']).toBe(`tools-2024-04-04,files-api-2025-04-14,${EXTENDED_CACHE_TTL_BETA}`);
    expect(last().headers['x-trace']).toBe('t1');
    // Without a 1h mark the config's header goes out untouched.
    await send({ messages: [{ role: 'user', content: 'Hi', cacheControl: m5 }] }, { headers: { 'anthropic-beta': 'tools-2024-04-04' } });
    expect(last().headers['anthropic-beta']).toBe('tools-2024-04-04');
  });
});

describe('anthropic prompt caching: automatic caching (request-level cacheControl)', () => {
  it('sends the top-level cache_control', async () => {
    const body = await send({ messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }], cacheControl: m5 });
    expect(body.cache_control).toEqual(wire5);
    expect(body.system).toBe('S');
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  it('counts it against the 4 slots: at most 3 explicit marks remain', async () => {
    const body = await send({
      tools: [tool('a', m5), tool('b', m5)],
      messages: [{ role: 'system', content: 'S', cacheControl: m5 }, { role: 'user', content: 'u0', cacheControl: m5 }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'u2' }],
      cacheControl: m5,
    });
    expect(body.tools).toEqual([wireTool('a'), wireTool('b', wire5)]);
    expect(JSON.stringify(body).split('cache_control').length - 1).toBe(4);
  });

  it('removes an explicit mark on the last block (the automatic breakpoint lands there; another TTL is a 400)', async () => {
    const body = await send({ messages: [{ role: 'user', content: 'u0', cacheControl: m5 }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'u2', cacheControl: m1h }], cacheControl: m5 });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'u0', cache_control: wire5 }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a1' }] },
      { role: 'user', content: [{ type: 'text', text: 'u2' }] },
    ]);
    expect(last().headers['anthropic-beta']).toBeUndefined();
  });

  it('a 1-hour automatic breakpoint becomes 5 minutes after a 5-minute mark; alone it stays 1h with the beta', async () => {
    const degraded = await send({ messages: [{ role: 'system', content: 'S', cacheControl: m5 }, { role: 'user', content: 'Hi' }], cacheControl: m1h });
    expect(degraded.cache_control).toEqual(wire5m);
    expect(last().headers['anthropic-beta']).toBeUndefined();
    const kept = await send({ messages: [{ role: 'system', content: 'S', cacheControl: m1h }, { role: 'user', content: 'Hi' }], cacheControl: m1h });
    expect(kept.cache_control).toEqual(wire1h);
    expect(last().headers['anthropic-beta']).toBe(EXTENDED_CACHE_TTL_BETA);
  });
});

describe('anthropic prompt caching: streams, count_tokens and bad input', () => {
  it('streams with the same body and headers', async () => {
    const request: GenerateRequest = { messages: [{ role: 'system', content: 'S', cacheControl: m1h }, { role: 'user', content: 'Hi' }], cacheControl: m5 };
    await collect(engine().stream(request));
    expect(lastBody()).toMatchObject({ system: [{ type: 'text', text: 'S', cache_control: wire1h }], cache_control: wire5, stream: true });
    expect(last().headers['anthropic-beta']).toBe(EXTENDED_CACHE_TTL_BETA);
  });

  it('count_tokens gets the marked blocks but not the top-level automatic mark (the peer refuses unknown fields)', async () => {
    const request: GenerateRequest = {
      tools: [tool('a', m1h)],
      messages: [{ role: 'system', content: 'S', cacheControl: m1h }, { role: 'user', content: 'Hi', cacheControl: m5 }],
      cacheControl: m5,
    };
    const count = await engine({ options: { exactTokenCount: true } }).countTokens(request);
    expect(typeof count).toBe('number');
    expect(last().path).toBe('/v1/messages/count_tokens');
    // The same conversion as /v1/messages: the mark on the last block gave way to the automatic breakpoint.
    expect(lastBody()).toEqual({
      model: 'claude-test-1',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      system: [{ type: 'text', text: 'S', cache_control: wire1h }],
      tools: [wireTool('a', wire1h)],
    });
    expect(last().headers['anthropic-beta']).toBe(EXTENDED_CACHE_TTL_BETA);
  });

  it('refuses a malformed cacheControl with invalid_request naming the field, before any request', async () => {
    const bad = async (request: GenerateRequest) => {
      const error = await engine().generate(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LLMError);
      return error as LLMError;
    };
    const type = await bad({ messages: [{ role: 'user', content: 'Hi', cacheControl: { type: 'persistent' } as unknown as CacheControl }] });
    expect(type).toMatchObject({ code: 'invalid_request', param: 'messages.0.cacheControl.type' });
    const ttl = await bad({ messages: [{ role: 'user', content: 'Hi' }], tools: [tool('a', { type: 'ephemeral', ttl: '2h' } as unknown as CacheControl)] });
    expect(ttl).toMatchObject({ code: 'invalid_request', param: 'tools.0.cacheControl.ttl' });
    expect(ttl.message).toContain('"5m" or "1h"');
    const part = await bad({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cacheControl: 'yes' as unknown as CacheControl }] }] });
    expect(part).toMatchObject({ code: 'invalid_request', param: 'messages.0.content.0.cacheControl' });
    const top = await bad({ messages: [{ role: 'user', content: 'Hi' }], cacheControl: { type: 'ephemeral', ttl: 60 } as unknown as CacheControl });
    expect(top).toMatchObject({ code: 'invalid_request', param: 'cacheControl.ttl' });
    expect(wire.server.requests).toHaveLength(0);
  });
});
