import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { ABSENT, agree, COUNT_BOUNDED, draws, junk, ownKeysDeep, positiveInts, strings, viaJson, withProto } from '../test-support/fast-check-agreement.js';
import { isWellFormedChatRequest } from './check-openai-chat.js';
import { OpenAIChatRequestSchema } from './openai-chat.js';

/** Generated bodies (seeded, so a failure is reproducible); half nearly clean, half often broken. */
function generator(seed: number) {
  const { pick, chance, ok, field, obj, list, next } = draws(seed, { values: [{}, { role: 'tool' }, 'x', null], rate: (junkRate) => (junkRate < 0.1 ? 0.01 : 0.05) });

  // Prompt-cache breakpoints (LiteLLM's convention): valid, null, and broken in each way the schema refuses.
  const cacheControls = [
    { type: 'ephemeral' },
    { type: 'ephemeral', ttl: '5m' },
    { type: 'ephemeral', ttl: '1h' },
    { type: 'ephemeral', ttl: '1h', scope: 'x' },
    withProto({ type: 'ephemeral' }, { ttl: '2h' }),
    null,
    { type: 'ephemeral', ttl: '2h' },
    { type: 'ephemeral', ttl: null },
    { type: 'persistent' },
    {},
    'ephemeral',
  ];
  const cacheControl = () => field(cacheControls, 0.75);
  const textPart = () => (ok() ? obj({ type: 'text', text: field(strings, 0.05), cache_control: cacheControl() }) : pick(junk));
  const imagePart = () =>
    obj({
      type: 'image_url',
      image_url: ok() ? obj({ url: field(['https://x/y.png', 'data:image/png;base64,AAAA', ''], 0.05), detail: field(['auto', 'low', 'high', 'medium']) }) : pick(junk),
      cache_control: cacheControl(),
    });
  const toolCall = () => obj({ id: field(['call_1', ''], 0.05), type: field(['function', 'tool'], 0.05), function: ok() ? obj({ name: field(['f', ''], 0.05), arguments: field(['{}', ''], 0.05) }) : pick(junk) });
  const textContent = () => (chance(0.6) ? pick(strings) : ok() ? list(textPart, 3) : pick(junk));
  // A refusal given back in an assistant message (openai 6.x ChatCompletionContentPartRefusal).
  const refusalPart = () => (ok() ? obj({ type: 'refusal', refusal: field(['no', 5], 0.05), cache_control: cacheControl() }) : pick(junk));
  const assistantContent = () => (chance(0.5) ? textContent() : ok() ? list(() => (chance(0.5) ? textPart() : refusalPart()), 3) : pick(junk));
  const message = (): unknown => {
    const role = ok() ? pick(['system', 'developer', 'user', 'assistant', 'tool']) : pick(['bot', 5, null, ABSENT]);
    switch (role) {
      case 'user':
        return obj({ role, content: chance(0.6) ? pick(strings) : ok() ? list(() => (chance(0.5) ? textPart() : imagePart()), 3) : pick(junk), name: field(strings), cache_control: cacheControl() });
      case 'assistant':
        return obj({
          role,
          content: chance(0.3) ? ABSENT : chance(0.2) ? null : assistantContent(),
          tool_calls: chance(0.6) ? ABSENT : ok() ? list(toolCall, 2) : pick(junk),
          name: field(strings),
          refusal: field([null, 'no']),
          cache_control: cacheControl(),
        });
      case 'tool':
        return obj({ role, tool_call_id: field(['call_1', ''], 0.05), content: textContent(), cache_control: cacheControl() });
      default:
        return obj({ role, content: textContent(), name: field(strings), cache_control: cacheControl() });
    }
  };
  const extension = () =>
    ok()
      ? obj({ strategy: field(['cost-optimized', '']), explain: field([true, false]), fallbacks: field([[], ['a'], ['a', ''], 'a']), cache: field([true, false]) })
      : pick(junk);

  return (): Record<string, unknown> => {
    next();
    return obj({
      model: field(['bench', 'auto', 'bench', 'auto', 'bench', 'auto', 'bench', 'auto', 'm'.repeat(256), 'é 漢字', '', 'm'.repeat(257), 'a\u0000b', 'gpt\u0085'], 0.03),
      messages: ok() ? list(message, 3) : pick(junk),
      max_tokens: field([...positiveInts, null]),
      max_completion_tokens: field([...positiveInts, null], 0.8),
      temperature: field([0, 0.7, 2, 2.01, -0.1, null]),
      top_p: field([0, 0.5, 1, 1.1, null]),
      n: field([1, 2, 0, null], 0.8),
      stop: field(['\n', ['a', 'b'], ['a', 'b', 'c', 'd', 'e'], [1], null]),
      seed: field([0, -5, 42, 1.5, 2 ** 60, null], 0.8),
      stream: field([true, false, null]),
      stream_options: field([{ include_usage: true }, { include_usage: 'yes' }, withProto({}, { include_usage: 'yes' }), {}, null, { include_obfuscation: null }, { include_obfuscation: false }, { include_obfuscation: 1 }]),
      parallel_tool_calls: field([true, false, null, 'false', 0], 0.8),
      // -2 to 2 or null (OpenAI's range); outside it, a string or an integer as text, the schema's 400.
      frequency_penalty: field([-2, -0.5, 0, 1.25, 2, -2.01, 2.5, 1e20, '1', null], 0.7),
      presence_penalty: field([-2, 0, 0.6, 2, 2.0001, -3, true, null], 0.7),
      user: field(strings, 0.8),
      // Any string, whatever its length (an agent's `<uuid>:sub:<uuid>` is 77 characters), or null; not a number or an object.
      prompt_cache_key: field(['0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c', '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d', 'k'.repeat(64), 'k'.repeat(65), '\u{1F600}'.repeat(65), '\ud83d'.repeat(65), '', null, 42, { id: 'k' }], 0.7),
      reasoning_effort: field(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max', 'turbo', 'HIGH', '', null], 0.7),
      // Log probabilities, verbosity and the top_k extension: valid values, null, and each kind the schema refuses.
      logprobs: field([true, false, null, 'true', 1], 0.8),
      top_logprobs: field([0, 5, 20, 21, -1, 2.5, '3', null], 0.8),
      verbosity: field(['low', 'medium', 'high', 'max', '', null, 1], 0.8),
      // (0 and -1, the servers' "off", are accepted and ask for nothing; below -1 is refused.)
      top_k: field([1, 40, 2 ** 31, 0, -1, 1.5, 2 ** 60, '40', null], 0.8),
      // vLLM's continuation fields: booleans or null; a string, a number or an object is the schema's 400.
      continue_final_message: field([true, false, null, 'true', 1, {}], 0.8),
      add_generation_prompt: field([true, false, null, 'false', 0, {}], 0.8),
      llmrr: chance(0.3) ? extension() : ABSENT,
      // Outside the fast check's scope: the schema decides.
      tools: chance(0.05) ? [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] : ABSENT,
      tool_choice: chance(0.03) ? 'auto' : ABSENT,
      response_format: chance(0.03) ? { type: 'json_object' } : ABSENT,
    });
  };
}

const outOfScope = (b: Record<string, unknown>) => 'tools' in b || 'tool_choice' in b || 'response_format' in b;

describe('isWellFormedChatRequest agrees with OpenAIChatRequestSchema', () => {
  it('on 10,000 generated bodies: accepts exactly what the schema returns unchanged (own keys included; outside tools/tool_choice/response_format)', () => {
    const next = generator(20261126);
    // Bodies with a cache_control the fast check accepted itself (not left to the schema).
    let marked = 0;
    // prompt_cache_key: fast-accepted keys over OpenAI's 64 characters (a hint: never refused for its length), and
    // bodies the schema refuses for their key (not a string).
    let longKeys = 0;
    let badKeys = 0;
    // Bodies holding one of the knobs (logprobs, top_logprobs, verbosity, top_k, continue_final_message,
    // add_generation_prompt): fast-accepted, refused for one.
    let knobs = 0;
    let badKnobs = 0;
    const KNOBS = ['logprobs', 'top_logprobs', 'verbosity', 'top_k', 'continue_final_message', 'add_generation_prompt'];
    // The same for the continuation fields alone (each of the two above).
    const CONTINUATION = ['continue_final_message', 'add_generation_prompt'];
    const continuation = new Map(CONTINUATION.map((k) => [k, { accepted: 0, refused: 0 }]));
    const check = (b: unknown) => {
      const fast = isWellFormedChatRequest(b);
      const held = KNOBS.some((k) => (b as Record<string, unknown> | null)?.[k] != null);
      if (fast && held) knobs++;
      if (!fast && held && OpenAIChatRequestSchema.safeParse(b).error?.issues.some((i) => KNOBS.includes(String(i.path[0])))) badKnobs++;
      for (const k of CONTINUATION) {
        if ((b as Record<string, unknown> | null)?.[k] == null) continue;
        const seen = continuation.get(k)!;
        if (fast) seen.accepted++;
        else if (OpenAIChatRequestSchema.safeParse(b).error?.issues.some((i) => i.path[0] === k)) seen.refused++;
      }
      if (fast && JSON.stringify(b).includes('"cache_control":{')) marked++;
      const key = (b as { prompt_cache_key?: unknown } | null)?.prompt_cache_key;
      if (fast && typeof key === 'string' && [...key].length > 64) longKeys++;
      if (!fast && key != null && OpenAIChatRequestSchema.safeParse(b).error?.issues.some((i) => i.path[0] === 'prompt_cache_key')) badKeys++;
      return fast;
    };
    const { accepted, refused, protoLeft } = agree(OpenAIChatRequestSchema, check, next, 10_000, (b) => outOfScope(b as Record<string, unknown>));
    // Every side was exercised (567, 8317 and 29 with this seed; 65 accepted bodies hold a cache_control object;
    // 26 hold a key over 64 characters, 565 are refused for their prompt_cache_key, a number or an object; 122
    // accepted bodies hold one of the knobs, 3630 are refused for one of them; 23 accepted bodies hold
    // continue_final_message and 18 add_generation_prompt, 883 and 774 are refused for it).
    expect(accepted).toBeGreaterThan(450);
    expect(refused).toBeGreaterThan(3000);
    expect(protoLeft).toBeGreaterThan(25);
    expect(marked).toBeGreaterThan(50);
    expect(longKeys).toBeGreaterThan(20);
    expect(badKeys).toBeGreaterThan(400);
    expect(knobs).toBeGreaterThan(100);
    expect(badKnobs).toBeGreaterThan(3000);
    for (const k of CONTINUATION) {
      expect({ k, accepted: continuation.get(k)!.accepted > 15, refused: continuation.get(k)!.refused > 600 }).toEqual({ k, accepted: true, refused: true });
    }
  }, COUNT_BOUNDED);

  /** Name, body, and (third) true where the fast check refuses a body the schema accepts, by design. */
  const samples: Array<[string, unknown, boolean?]> = [
    ['the benchmark body', { model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32 }],
    ['a conversation with tool calls', {
      model: 'm',
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'be brief' }] },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } }], name: 'ann' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      stop: ['a', 'b', 'c', 'd'],
      seed: -1,
      llmrr: { strategy: 'cost-optimized', explain: true, fallbacks: ['x'], cache: false },
      unknown_top_level: { kept: true },
    }],
    ['nulls where the schema allows them', { model: 'm', messages: [{ role: 'assistant', content: null, refusal: null }], max_tokens: null, temperature: null, top_p: null, n: null, stop: null, seed: null, stream: null, stream_options: null }],
    ['an empty model', { model: '', messages: [{ role: 'user', content: 'hi' }] }],
    ['a model of 257 characters', { model: 'm'.repeat(257), messages: [{ role: 'user', content: 'hi' }] }],
    ['a model with a control character', { model: 'mo\u001bdel', messages: [{ role: 'user', content: 'hi' }] }],
    ['no messages', { model: 'm', messages: [] }],
    ['an unknown role', { model: 'm', messages: [{ role: 'robot', content: 'hi' }] }],
    ['an image in a system message', { model: 'm', messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'u' } }] }] }],
    ['an unknown key in llmrr', { model: 'm', messages: [{ role: 'user', content: 'hi' }], llmrr: { explain: true, nope: 1 } }],
    ['five stops', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stop: ['a', 'b', 'c', 'd', 'e'] }],
    ['max_tokens 0', { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }],
    ['an unsafe integer', { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 ** 53 }],
    ['n 2', { model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 2 }],
    ['parallel_tool_calls null (absent)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], parallel_tool_calls: null }],
    ['parallel_tool_calls false', { model: 'm', messages: [{ role: 'user', content: 'hi' }], parallel_tool_calls: false }],
    ['parallel_tool_calls "false"', { model: 'm', messages: [{ role: 'user', content: 'hi' }], parallel_tool_calls: 'false' }],
    ['penalties at the ends of the range', { model: 'm', messages: [{ role: 'user', content: 'hi' }], frequency_penalty: -2, presence_penalty: 2 }],
    ['null penalties', { model: 'm', messages: [{ role: 'user', content: 'hi' }], frequency_penalty: null, presence_penalty: null }],
    ['a frequency_penalty over 2', { model: 'm', messages: [{ role: 'user', content: 'hi' }], frequency_penalty: 2.01 }],
    ['a presence_penalty under -2', { model: 'm', messages: [{ role: 'user', content: 'hi' }], presence_penalty: -2.5 }],
    ['a penalty as a string', { model: 'm', messages: [{ role: 'user', content: 'hi' }], presence_penalty: '0.5' }],
    ['a tool message without its id', { model: 'm', messages: [{ role: 'tool', content: 'x' }] }],
    // OpenAI's file and audio parts: the schema takes them (the conversion refuses them as `unsupported`, naming the
    // part); the fast check leaves them to it.
    ['a file part (the AI SDK\'s PDF)', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,AA' } }] }] }, true],
    ['an input_audio part', { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] }] }, true],
    ['a file part without its file', { model: 'm', messages: [{ role: 'user', content: [{ type: 'file' }] }] }],
    ['an image detail outside the enum', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'u', detail: 'max' } }] }] }],
    ['a prompt_cache_key (a Codex session id)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c' }],
    ['a prompt_cache_key of 64 characters', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: 'k'.repeat(64) }],
    ['a null prompt_cache_key', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: null }],
    ['a prompt_cache_key of 65 characters (over OpenAI\'s 64: a hint, accepted)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: 'k'.repeat(65) }],
    ['a prompt_cache_key of 77 characters (an agent\'s <uuid>:sub:<uuid>)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d' }],
    ['a prompt_cache_key of 64 emoji (128 UTF-16 units, 64 code points)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: '\u{1F600}'.repeat(64) }],
    ['a prompt_cache_key of 65 emoji (accepted)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: '\u{1F600}'.repeat(65) }],
    ['a prompt_cache_key that is a number', { model: 'm', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: 42 }],
    ['reasoning_effort xhigh', { model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'xhigh' }],
    ['reasoning_effort null', { model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: null }],
    ['an unknown reasoning_effort', { model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'turbo' }],
    ['a reasoning_effort that is not a string', { model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 3 }],
    ['logprobs with top_logprobs 20 (the OpenAI SDK shape)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], logprobs: true, top_logprobs: 20 }],
    ['top_logprobs 21', { model: 'm', messages: [{ role: 'user', content: 'hi' }], logprobs: true, top_logprobs: 21 }],
    ['top_logprobs as a fraction', { model: 'm', messages: [{ role: 'user', content: 'hi' }], logprobs: true, top_logprobs: 1.5 }],
    ['logprobs as a string', { model: 'm', messages: [{ role: 'user', content: 'hi' }], logprobs: 'true' }],
    ['null logprobs, top_logprobs, verbosity and top_k', { model: 'm', messages: [{ role: 'user', content: 'hi' }], logprobs: null, top_logprobs: null, verbosity: null, top_k: null }],
    ['verbosity low', { model: 'm', messages: [{ role: 'user', content: 'hi' }], verbosity: 'low' }],
    ['an unknown verbosity', { model: 'm', messages: [{ role: 'user', content: 'hi' }], verbosity: 'max' }],
    ['top_k 40 (vLLM, OpenRouter, LiteLLM)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_k: 40 }],
    ['top_k 0', { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_k: 0 }],
    ['top_k -1 (vLLM\'s "all tokens")', { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_k: -1 }],
    ['top_k -2', { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_k: -2 }],
    ['top_k as a fraction', { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_k: 2.5 }],
    ['an unsafe top_k', { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_k: 2 ** 60 }],
    ['continue_final_message with add_generation_prompt false (vLLM\'s continuation)', { model: 'm', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: '{"a": "' }], continue_final_message: true, add_generation_prompt: false }],
    ['null continue_final_message and add_generation_prompt', { model: 'm', messages: [{ role: 'user', content: 'hi' }], continue_final_message: null, add_generation_prompt: null }],
    ['continue_final_message as a string', { model: 'm', messages: [{ role: 'user', content: 'hi' }], continue_final_message: 'true' }],
    ['continue_final_message as a number', { model: 'm', messages: [{ role: 'user', content: 'hi' }], continue_final_message: 1 }],
    ['add_generation_prompt as a number', { model: 'm', messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: 0 }],
    ['add_generation_prompt as an object', { model: 'm', messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: {} }],
    ['a __proto__ key in llmrr', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"llmrr":{"__proto__":{"explain":true}}}')],
    ['a __proto__ key at the top', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{"stream":"yes"}}'), true],
    ['a __proto__ key in a message', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi","__proto__":{"role":"tool"}}]}'), true],
    ['a __proto__ key in a text part', JSON.parse('{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","__proto__":{}}]}]}'), true],
    ['a __proto__ key in a tool call', JSON.parse('{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}","__proto__":{}}}]}]}'), true],
    ['LiteLLM cache_control on parts and messages (5m, 1h, null)', {
      model: 'm',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'long context', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        { role: 'user', content: 'question', cache_control: { type: 'ephemeral' } },
        { role: 'assistant', content: 'answer', cache_control: null },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'u' }, cache_control: { type: 'ephemeral', ttl: '5m' } }, { type: 'text', text: 'and?', cache_control: null }] },
        { role: 'tool', tool_call_id: 'c', content: 'x', cache_control: { type: 'ephemeral', extra: 1 } },
      ],
    }],
    ['a cache_control ttl outside the enum', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral', ttl: '2h' } }] }] }],
    ['a cache_control of another type', { model: 'm', messages: [{ role: 'user', content: 'x', cache_control: { type: 'persistent' } }] }],
    ['a cache_control that is a string', { model: 'm', messages: [{ role: 'system', content: 'x', cache_control: 'ephemeral' }] }],
    ['a __proto__ key in a cache_control (kept by the schema, which does not copy it)', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi","cache_control":{"type":"ephemeral","__proto__":{"ttl":"2h"}}}]}')],
    ['stream_options.include_obfuscation null (as absent)', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true, include_obfuscation: null } }],
    ['stream_options.include_obfuscation as a string', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_obfuscation: 'true' } }],
    ['a __proto__ key in stream_options', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"__proto__":{}}}'), true],
  ];

  for (const [name, sample, toSchema] of samples) {
    it(`${name}: ${toSchema ? 'left to the schema' : 'same verdict as the schema'}`, () => {
      const body = viaJson(sample);
      const zod = OpenAIChatRequestSchema.safeParse(body);
      const fast = isWellFormedChatRequest(body);
      if (fast) expect(ownKeysDeep(zod.data)).toEqual(ownKeysDeep(body));
      expect(fast).toBe(toSchema ? false : zod.success);
    });
  }

  it('a body with its own __proto__ key: validateBody returns the schema\u2019s copy, without the key', () => {
    const body = JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{"x":1}}') as unknown;
    const validated = validateBody(OpenAIChatRequestSchema, body);
    expect(validated).not.toBe(body);
    expect(Object.hasOwn(validated, '__proto__')).toBe(false);
  });
});

describe('validateBody with the fast check', () => {
  it('returns a well-formed body as it is, and still names the field of a bad one', () => {
    const body = viaJson(samples0());
    expect(validateBody(OpenAIChatRequestSchema, body)).toBe(body);
    let error: unknown;
    try {
      validateBody(OpenAIChatRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 3 });
    } catch (e) {
      error = e;
    }
    expect(LLMError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_request', param: 'temperature' });
    expect(() => validateBody(OpenAIChatRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'turbo' })).toThrow(/reasoning_effort/);
  });

  it('bodies outside the fast check (tools) are still validated by the schema', () => {
    const tools = [{ type: 'function', function: { name: 'bad name!', parameters: { type: 'object' } } }];
    expect(() => validateBody(OpenAIChatRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools })).toThrow(/tools\.0\.function\.name/);
  });
});

function samples0() {
  return { model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32 };
}
