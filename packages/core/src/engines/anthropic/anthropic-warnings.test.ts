import { describe, expect, it } from 'vitest';
import type { CacheControl, GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { collect } from '../../test/async.test-helpers.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// What the Anthropic engine did not do as asked, said as `CallWarning`s (spec/warnings.ts): `GenerateResult.warnings`
// (only when there is one) and, streamed, one `warnings` part before every other part. Against the local wire
// server, which refuses the cache marks Anthropic refuses, so each warned-about body is one the API takes.

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const m5: CacheControl = { type: 'ephemeral' };
const m1h: CacheControl = { type: 'ephemeral', ttl: '1h' };
const hi: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const warning = (code: string, field: string, message: RegExp | string = /./) => ({ code, field, message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message) });

async function warningsOf(request: GenerateRequest, extra = {}): Promise<CallWarning[] | undefined> {
  return (await engine(extra).generate(request)).warnings;
}

describe('anthropic warnings: none when everything was done as asked', () => {
  it('an ordinary request has no warnings field, and its stream no warnings part', async () => {
    const request: GenerateRequest = {
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'hi', cacheControl: m5 }] }],
      temperature: 0.3,
      stop: ['END'],
      user: 'u-1',
      tools: [{ name: 'f', parameters: { type: 'object' }, cacheControl: m1h }],
      cacheControl: m5,
    };
    expect(await engine().generate(request)).not.toHaveProperty('warnings');
    const parts = await collect(engine().stream(request));
    expect(parts.map((p) => p.type)).not.toContain('warnings');
  });
});

describe('anthropic warnings: settings not sent', () => {
  it('seed (Anthropic has none): generate carries it, the stream\u2019s first part carries it', async () => {
    const request: GenerateRequest = { messages: hi, seed: 7 };
    expect(await warningsOf(request)).toEqual([warning('setting_not_sent', 'seed', 'no seed')]);
    const parts = await collect(engine().stream(request));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: [warning('setting_not_sent', 'seed')] });
    expect(parts.slice(1).map((p) => p.type)).not.toContain('warnings');
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(lastBody()).not.toHaveProperty('seed');
  });

  it('responseFormat.strict on a model without strict tool use (JSON mode is a forced tool, not strictly enforced)', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const old = { model: 'claude-3-5-haiku-latest' };
    expect(await warningsOf({ messages: hi, responseFormat: { type: 'json_schema', schema, strict: true } }, old)).toEqual([warning('setting_not_sent', 'responseFormat.strict', 'claude-3-5-haiku-latest')]);
    expect(await warningsOf({ messages: hi, responseFormat: { type: 'json_schema', schema } }, old)).toBeUndefined();
  });

  it('promptCacheKey (Anthropic caches by prefix; the router still uses the key)', async () => {
    expect(await warningsOf({ messages: hi, promptCacheKey: 'conv-1' })).toEqual([warning('setting_not_sent', 'promptCacheKey', 'prompt-cache affinity')]);
    expect(await warningsOf({ messages: hi, promptCacheKey: '' })).toBeUndefined();
    expect(lastBody()).not.toHaveProperty('prompt_cache_key');
  });

  it('logitBias (Anthropic has no token bias); an empty map is none', async () => {
    expect(await warningsOf({ messages: hi, logitBias: { '50256': -100 } })).toEqual([warning('setting_not_sent', 'logitBias', 'no token logit bias')]);
    expect(lastBody()).not.toHaveProperty('logit_bias');
    expect(await warningsOf({ messages: hi, logitBias: {} })).toBeUndefined();
  });

  it('a user turn\u2019s name (Anthropic has none)', async () => {
    expect(await warningsOf({ messages: [{ role: 'user', content: 'hi', name: 'ann' }] })).toEqual([warning('setting_not_sent', 'messages.0.name')]);
  });

  it('a system or assistant message\u2019s author name (Anthropic has none); a tool message\u2019s name (the function) is none', async () => {
    const messages: GenerateRequest['messages'] = [
      { role: 'system', content: 'Moderate.', name: 'moderator' },
      { role: 'user', content: 'Tea or coffee?' },
      { role: 'assistant', content: 'Tea.', name: 'tea_bot' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_1', name: 'vote', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'toolu_1', content: 'tea', name: 'vote' },
    ];
    expect(await warningsOf({ messages })).toEqual([warning('setting_not_sent', 'messages.0.name', 'no author name'), warning('setting_not_sent', 'messages.2.name', 'no author name')]);
    expect(lastBody().system).toBe('Moderate.');
  });

  it('reasoning dropped: on a deployment that cannot think, and against a temperature Anthropic refuses with thinking', async () => {
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'high' } }, { capabilities: ['chat', 'streaming'] })).toEqual([
      warning('setting_not_sent', 'reasoning', 'no reasoning capability'),
    ]);
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'high' }, temperature: 0.2 })).toEqual([warning('setting_not_sent', 'reasoning', 'temperature')]);
    expect(lastBody()).not.toHaveProperty('thinking');
    expect(await warningsOf({ messages: hi, temperature: 0.2, providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 2048 } } } })).toEqual([
      warning('setting_not_sent', 'providerOptions.anthropic.thinking', 'temperature'),
    ]);
    expect(await warningsOf({ messages: hi, reasoning: { budgetTokens: 2048 }, maxTokens: 500 })).toEqual([warning('setting_not_sent', 'reasoning', 'budget')]);
    // Thinking off, or sent: nothing to say.
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'none' } })).toBeUndefined();
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'high' } })).toBeUndefined();
    expect(lastBody()).toHaveProperty('thinking');
  });
});

describe('anthropic warnings: thinking sent other than asked (setting_changed)', () => {
  it('an effort the model lacks goes as the nearest level below; minimal goes as low', async () => {
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'xhigh' } }, { model: 'claude-mythos-preview' })).toEqual([
      warning('setting_changed', 'reasoning.effort', 'reasoning.effort xhigh was sent as output_config.effort high: claude-mythos-preview takes low, medium, high, max.'),
    ]);
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'minimal' } }, { model: 'claude-opus-4-7' })).toEqual([warning('setting_changed', 'reasoning.effort', 'sent as output_config.effort low')]);
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'xhigh' } }, { model: 'claude-opus-4-7' })).toBeUndefined();
  });

  it('a budget on a model that takes adaptive thinking only goes as adaptive thinking with an effort', async () => {
    expect(await warningsOf({ messages: hi, reasoning: { budgetTokens: 3000 } }, { model: 'claude-opus-4-7' })).toEqual([
      warning('setting_changed', 'reasoning.budgetTokens', 'reasoning.budgetTokens 3000 was sent as adaptive thinking with output_config.effort high: claude-opus-4-7 takes adaptive thinking only, not a budget.'),
    ]);
  });

  it('a budget raised to 1024 or lowered below max_tokens, an effort\u2019s budget lowered below max_tokens', async () => {
    expect(await warningsOf({ messages: hi, reasoning: { budgetTokens: 500 } })).toEqual([warning('setting_changed', 'reasoning.budgetTokens', "500 was sent as budget_tokens 1024: Anthropic's minimum is 1024")]);
    expect(await warningsOf({ messages: hi, reasoning: { budgetTokens: 5000 }, maxTokens: 3000 })).toEqual([warning('setting_changed', 'reasoning.budgetTokens', '5000 was sent as budget_tokens 2999: thinking must stay below max_tokens 3000')]);
    expect(lastBody()).toMatchObject({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 2999 } });
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'high' }, maxTokens: 3000 })).toEqual([warning('setting_changed', 'reasoning.effort', 'was sent as budget_tokens 2999')]);
    expect(await warningsOf({ messages: hi, providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 9000 } } }, maxTokens: 4000 })).toEqual([
      warning('setting_changed', 'providerOptions.anthropic.thinking.budget_tokens', 'was sent as budget_tokens 3999'),
    ]);
    // A budget that fits, an effort's budget that fits: the mapping, nothing to say.
    expect(await warningsOf({ messages: hi, reasoning: { budgetTokens: 2048 } })).toBeUndefined();
    expect(await warningsOf({ messages: hi, reasoning: { effort: 'low' } })).toBeUndefined();
  });

  it('adaptive asked through providerOptions of a model that takes manual thinking only goes as a budget', async () => {
    expect(await warningsOf({ messages: hi, providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } }, { model: 'claude-sonnet-4-5' })).toEqual([
      warning('setting_changed', 'providerOptions.anthropic.thinking', 'takes manual thinking only'),
    ]);
    expect(lastBody()).toMatchObject({ thinking: { type: 'enabled' } });
  });
});

describe('anthropic warnings: cache marks dropped or changed, named by their request field', () => {
  it('over 4: the earliest in render order, each by its field (a tool, a system message, a part)', async () => {
    const result = await engine().generate({
      messages: [
        { role: 'system', content: 'S', cacheControl: m5 },
        { role: 'user', content: [{ type: 'text', text: 'a', cacheControl: m5 }, { type: 'text', text: 'b', cacheControl: m5 }] },
        { role: 'assistant', content: 'c', cacheControl: m5 },
        { role: 'user', content: 'd', cacheControl: m5 },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' }, cacheControl: m5 }],
      cacheControl: m5,
    });
    // 7 marks with the automatic one, 1 on the last block (it gives way, same TTL: nothing to say): 5 + automatic -> 2 dropped.
    expect(result.warnings).toEqual([
      warning('cache_control_dropped', 'tools.0.cacheControl', 'limit of 4'),
      warning('cache_control_dropped', 'messages.0.cacheControl', 'automatic caching takes one'),
    ]);
  });

  it('on an empty text part, an empty system message, an assistant turn ending in thinking, an empty tool result', async () => {
    const result = await engine().generate({
      messages: [
        { role: 'system', content: '', cacheControl: m5 },
        { role: 'system', content: 'S', parts: [{ type: 'text', text: '', cacheControl: m5 }, { type: 'text', text: 'S' }] },
        { role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'text', text: '', cacheControl: m5 }] },
        { role: 'assistant', content: null, reasoning: [{ type: 'reasoning', text: 't', signature: 'sig' }], cacheControl: m5 },
        { role: 'user', content: 'q2' },
        { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'f', arguments: '{}' }] },
        { role: 'tool', toolCallId: 't1', content: '', cacheControl: m5 },
        { role: 'assistant', content: '', cacheControl: m5 },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
    });
    expect(result.warnings).toEqual([
      warning('cache_control_dropped', 'messages.0.cacheControl', 'empty system message'),
      warning('cache_control_dropped', 'messages.1.parts.0.cacheControl', 'empty text'),
      warning('cache_control_dropped', 'messages.2.content.1.cacheControl', 'empty text'),
      warning('cache_control_dropped', 'messages.3.cacheControl', 'thinking block'),
      warning('cache_control_dropped', 'messages.6.cacheControl', 'empty tool result'),
      warning('cache_control_dropped', 'messages.7.cacheControl', 'empty assistant turn'),
    ]);
    expect(JSON.stringify(lastBody())).not.toContain('cache_control');
  });

  it('two marks on one block with different TTLs: the one that loses is dropped; the same TTL says nothing', async () => {
    const result = await engine().generate({
      messages: [
        { role: 'system', content: 'S', parts: [{ type: 'text', text: 'S', cacheControl: m1h }], cacheControl: m5 },
        { role: 'user', content: [{ type: 'text', text: 'q', cacheControl: m1h }], cacheControl: m5 },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: [{ type: 'text', text: 'q2', cacheControl: m5 }], cacheControl: m5 },
      ],
    });
    expect(result.warnings).toEqual([
      warning('cache_control_dropped', 'messages.0.parts.0.cacheControl', "system message's own breakpoint"),
      warning('cache_control_dropped', 'messages.1.cacheControl', 'carries its own breakpoint'),
      // The part's 1-hour mark that won now follows the system block's 5-minute one.
      warning('cache_control_changed', 'messages.1.content.0.cacheControl', 'after a 5-minute one'),
    ]);
  });

  it('a 1-hour mark after a 5-minute one goes as 5-minute: cache_control_changed, the automatic one named cacheControl', async () => {
    const result = await engine().generate({
      messages: [
        { role: 'system', content: 'S', cacheControl: m5 },
        { role: 'user', content: 'q', cacheControl: m1h },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'q2' },
      ],
      cacheControl: m1h,
    });
    expect(result.warnings).toEqual([
      warning('cache_control_changed', 'messages.1.cacheControl', '1-hour cache breakpoint after a 5-minute one'),
      warning('cache_control_changed', 'cacheControl', 'automatic'),
    ]);
    expect(lastBody().cache_control).toEqual({ type: 'ephemeral', ttl: '5m' });
  });

  it('a mark on the last block under another automatic TTL takes the automatic one: changed', async () => {
    const result = await engine().generate({ messages: [{ role: 'user', content: 'q', cacheControl: m5 }], cacheControl: m1h });
    expect(result.warnings).toEqual([warning('cache_control_changed', 'messages.0.cacheControl', 'lands on the last block')]);
    expect(await warningsOf({ messages: [{ role: 'user', content: 'q', cacheControl: m1h }], cacheControl: m1h })).toBeUndefined();
  });

  it('blocks given verbatim through providerOptions are named by their providerOptions path', async () => {
    const result = await engine().generate({
      messages: [{ role: 'user', content: 'q', cacheControl: m5 }],
      providerOptions: {
        anthropic: {
          system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }],
          tools: [1, 2, 3, 4].map((k) => ({ name: `t${k}`, input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } })),
        },
      },
    });
    expect(result.warnings?.map((w) => [w.code, w.field])).toEqual([
      ['cache_control_dropped', 'providerOptions.anthropic.tools.0.cache_control'],
      ['cache_control_dropped', 'providerOptions.anthropic.tools.1.cache_control'],
    ]);
  });

  it('every warning message is one ASCII sentence', async () => {
    const result = await engine().generate({ messages: [{ role: 'user', content: 'q', cacheControl: m5, name: 'x' }, { role: 'assistant', content: 'a' }, { role: 'system', content: 's' }, { role: 'user', content: 'q2' }], cacheControl: m1h, seed: 1 });
    expect(result.warnings!.map((w) => w.code)).toEqual(['setting_not_sent', 'system_message_hoisted', 'setting_not_sent', 'cache_control_changed']);
    for (const w of result.warnings!) expect(w.message).toMatch(/^[\x20-\x7e]+\.$/);
  });
});
