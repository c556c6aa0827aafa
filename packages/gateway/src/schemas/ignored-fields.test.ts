import { describe, expect, it } from 'vitest';
import { CHAT_FIELD_RULES } from './openai-chat.js';
import { RESPONSES_FIELD_RULES } from './openai-responses.js';
import { MESSAGES_FIELD_RULES } from './anthropic-messages.js';
import { CappedWarnings, IGNORED_FIELD_WARNINGS_MAX, ignoredFieldRules, ignoredFieldWarnings, joinWarnings, keepOwnProtoField } from './ignored-fields.js';

describe('ignoredFieldWarnings', () => {
  it('every field known or asking for nothing: undefined (nothing allocated)', () => {
    const body = { model: 'm', messages: [], temperature: 1, n: 1, stream_options: { include_usage: true }, user: 'u', llmrr: {}, store: false, logprobs: null, metadata: {}, modalities: ['text'] };
    expect(ignoredFieldWarnings(body, CHAT_FIELD_RULES)).toBeUndefined();
  });

  it('one setting_not_sent per other field, in body order, with the client\u2019s own name', () => {
    expect(ignoredFieldWarnings({ metadata: { a: 'b' }, model: 'm', prediction: { type: 'content', content: 'x' }, logprobs: true, store: true }, CHAT_FIELD_RULES)).toEqual([
      { code: 'setting_not_sent', field: 'metadata', message: 'metadata is not supported by this gateway; it was not sent.' },
      { code: 'setting_not_sent', field: 'prediction', message: 'prediction is not supported by this gateway; it was not sent.' },
      { code: 'setting_not_sent', field: 'store', message: 'store is not supported by this gateway; it was not sent.' },
    ]);
    // Acted on, never an ignored field: legacy function calling, logit_bias, modalities and audio.
    expect(ignoredFieldWarnings({ functions: [{ name: 'f' }], function_call: 'auto', logit_bias: { '1': 2 }, modalities: ['text', 'audio'], audio: { voice: 'alloy' } }, CHAT_FIELD_RULES)).toBeUndefined();
  });

  it('a route\u2019s own no-op values, and fields it accepts but does not act on', () => {
    expect(ignoredFieldWarnings({ truncation: 'disabled', service_tier: 'auto', store: false, include: [], metadata: { a: 'b' } }, RESPONSES_FIELD_RULES)).toBeUndefined();
    expect(ignoredFieldWarnings({ truncation: 'auto', service_tier: 'priority', store: true, include: ['reasoning.encrypted_content'], max_tool_calls: 2 }, RESPONSES_FIELD_RULES)?.map((w) => w.field)).toEqual([
      'truncation',
      'service_tier',
      'store',
      'max_tool_calls',
    ]);
    expect(ignoredFieldWarnings({ service_tier: 'auto', metadata: { user_id: 'u' } }, MESSAGES_FIELD_RULES)).toBeUndefined();
  });

  it('names that are Object.prototype members are fields like any other (no inherited no-op rule)', () => {
    const body = JSON.parse('{"constructor":"x","toString":1,"hasOwnProperty":true,"__proto__":{"a":1}}') as object;
    expect(ignoredFieldWarnings(body, ignoredFieldRules({}))?.map((w) => w.field)).toEqual(['constructor', 'toString', 'hasOwnProperty', '__proto__']);
  });

  it(`bounded: ${IGNORED_FIELD_WARNINGS_MAX} and one more saying how many others (1 and many)`, () => {
    const body = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, 1]));
    const one = ignoredFieldWarnings(body(IGNORED_FIELD_WARNINGS_MAX + 1), ignoredFieldRules({}))!;
    expect(one).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(one.at(-1)).toEqual({ code: 'setting_not_sent', field: '...', message: '1 more field is not supported by this gateway; they were not sent.' });
    const many = ignoredFieldWarnings(body(100_000), ignoredFieldRules({}))!;
    expect(many).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(many.at(-1)!.message).toBe(`${100_000 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.`);
  });
});

describe('CappedWarnings and joinWarnings', () => {
  const warning = (field: string) => ({ code: 'setting_not_sent', field, message: `${field} was not sent.` });
  const capped = (prefix: string, n: number) => {
    const out = new CappedWarnings();
    for (let i = 0; i < n; i++) if (out.room()) out.push(warning(`${prefix}${i}`));
    return out.done();
  };

  it('none: undefined; a warning past the bound is counted, not kept', () => {
    expect(new CappedWarnings().done()).toBeUndefined();
    const list = capped('a', IGNORED_FIELD_WARNINGS_MAX + 3)!;
    expect(list).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(list.at(-1)).toMatchObject({ field: '...', message: '3 more fields are not supported by this gateway; they were not sent.' });
  });

  it('joined: the first in order within the bound, one `...` counting the rest, the lists\u2019 own `...` included', () => {
    expect(joinWarnings(undefined, undefined)).toBeUndefined();
    const a = capped('a', 3)!;
    expect(joinWarnings(a, undefined)).toBe(a);
    expect(joinWarnings(undefined, a)).toBe(a);
    expect(joinWarnings(capped('a', 3), capped('b', 2))!.map((w) => w.field)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    const both = joinWarnings(capped('a', 20), capped('b', 30))!;
    expect(both).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(both.slice(0, IGNORED_FIELD_WARNINGS_MAX).map((w) => w.field)).toEqual(Array.from({ length: IGNORED_FIELD_WARNINGS_MAX }, (_, i) => `a${i}`));
    expect(both.at(-1)!.message).toBe(`${50 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.`);
    // Joined again (the provider-only ones after): still one `...`, counting all.
    const again = joinWarnings(both, capped('c', 5))!;
    expect(again).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(again.at(-1)!.message).toBe(`${55 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.`);
  });
});

describe('no-op values of speed and prompt_cache_options', () => {
  const fields = (body: object, rules: Parameters<typeof ignoredFieldWarnings>[1]) => ignoredFieldWarnings(body, rules)?.map((w) => w.field);

  it('/v1/messages speed: standard (the default) asks for nothing; fast is said', () => {
    expect(fields({ speed: 'standard' }, MESSAGES_FIELD_RULES)).toBeUndefined();
    expect(fields({ speed: 'fast' }, MESSAGES_FIELD_RULES)).toEqual(['speed']);
  });

  it('prompt_cache_options: only its defaults (mode implicit, ttl 30m, each optional) ask for nothing, on both routes', () => {
    for (const rules of [CHAT_FIELD_RULES, RESPONSES_FIELD_RULES]) {
      for (const v of [{ mode: 'implicit', ttl: '30m' }, { mode: 'implicit' }, { ttl: '30m' }]) expect(fields({ prompt_cache_options: v }, rules)).toBeUndefined();
      for (const v of [{ mode: 'explicit' }, { mode: 'implicit', ttl: '1h' }, { mode: 'implicit', other: 1 }, JSON.parse('{"mode":"implicit","__proto__":{"ttl":"24h"}}'), 'implicit', ['implicit']]) {
        expect(fields({ prompt_cache_options: v }, rules)).toEqual(['prompt_cache_options']);
      }
    }
  });
});

describe('keepOwnProtoField', () => {
  it('puts the raw body\u2019s own __proto__ back on the copy as an own field (not the prototype), which is then said', () => {
    const raw = JSON.parse('{"model":"m","__proto__":{"logprobs":true}}') as object;
    const copy: Record<string, unknown> = { model: 'm' };
    keepOwnProtoField(raw, copy);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy.logprobs).toBeUndefined();
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(fields(copy)).toEqual(['__proto__']);
  });

  it('nothing to do without one, or when the body is the raw object itself', () => {
    const copy = { model: 'm' };
    keepOwnProtoField({ model: 'm' }, copy);
    expect(Object.keys(copy)).toEqual(['model']);
    const raw = JSON.parse('{"__proto__":{"a":1}}') as object;
    keepOwnProtoField(raw, raw);
    expect(Object.keys(raw)).toEqual(['__proto__']);
  });

  function fields(body: object) {
    return ignoredFieldWarnings(body, CHAT_FIELD_RULES)?.map((w) => w.field);
  }
});
