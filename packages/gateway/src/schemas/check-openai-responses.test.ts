import { LLMError, REASONING_EFFORTS } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { validateBody } from '../http/validate.js';
import { responseEcho } from '../responses/response-object.js';
import { ABSENT, agree, COUNT_BOUNDED, draws, junk, ownKeysDeep, positiveInts, strings, viaJson, withProto, type Pool } from '../test-support/fast-check-agreement.js';
import {
  isWellFormedFunctionCall,
  isWellFormedFunctionCallOutput,
  isWellFormedInputMessage,
  isWellFormedReasoningItem,
  isWellFormedResponsesRequest,
  isWellFormedTextPart,
} from './check-openai-responses.js';
import {
  OpenAIResponsesRequestSchema,
  RESPONSES_INCLUDE_VALUES,
  ResponsesContentPartSchema,
  ResponsesFunctionCallItemSchema,
  ResponsesFunctionCallOutputItemSchema,
  ResponsesInputMessageSchema,
  ResponsesReasoningItemSchema,
  type OpenAIResponsesRequest,
} from './openai-responses.js';

/** Generated bodies and input items: mostly well-formed, often broken in one place (seeded, so reproducible). */
function generator(seed: number) {
  const draw = draws(seed, { values: [{}, { type: 'json_schema' }, 'x', null], rate: () => 0.03 });
  const { pick, chance, ok, field, obj, list } = draw;

  const part = (): unknown => {
    if (!ok()) return pick(junk);
    const type = pick(['input_text', 'output_text', 'refusal', 'input_image', 'input_file', 'text', ABSENT, 5]);
    if (type === 'refusal') return obj({ type, refusal: field(strings, 0.05), text: field(strings, 0.9) });
    if (type === 'input_image') return obj({ type, image_url: field(['https://x/y.png', '', null]), detail: field(['auto', 'max', null]) });
    return obj({ type, text: field(strings, 0.05) });
  };
  const parts = () => (chance(0.5) ? pick(strings) : ok() ? list(part, 3) : pick(junk));
  const message = () =>
    obj({
      type: chance(0.5) ? ABSENT : ok() ? 'message' : pick(['msg', null, 1]),
      role: ok() ? pick(['user', 'assistant', 'system', 'developer']) : pick(['tool', 'bot', null, ABSENT]),
      content: chance(0.02) ? ABSENT : parts(),
      id: field(['msg_1', '', null], 0.8),
      status: field(['completed', null], 0.8),
    });
  const functionCall = () =>
    obj({
      type: ok() ? 'function_call' : pick(['function_call_output', ABSENT]),
      call_id: field(['call_1', ''], 0.05),
      name: field(['get_weather', ''], 0.05),
      arguments: field(['{}', '', '{"city":"Oslo"}'], 0.05),
      id: field(['fc_1', null], 0.8),
      status: field(['completed', null], 0.8),
    });
  const functionCallOutput = () =>
    obj({
      type: ok() ? 'function_call_output' : pick(['function_call', ABSENT]),
      call_id: field(['call_1', ''], 0.05),
      output: chance(0.02) ? ABSENT : parts(),
      id: field(['fco_1', null], 0.8),
      status: field(['completed', null], 0.8),
    });
  // A reasoning item given back: summary and content pieces ({ type, text }), the gateway's encrypted_content.
  const textPiece = () => (ok() ? obj({ type: field(['summary_text', 'reasoning_text', 5], 0.05), text: field(strings, 0.05) }) : pick(junk));
  const textPieces = () => (ok() ? list(textPiece, 2) : pick(junk));
  const reasoningItem = () =>
    obj({
      type: ok() ? 'reasoning' : pick(['summary_text', ABSENT]),
      id: field(['rs_1', null, 1], 0.5),
      summary: chance(0.2) ? ABSENT : chance(0.05) ? null : textPieces(),
      content: chance(0.5) ? ABSENT : chance(0.05) ? null : textPieces(),
      encrypted_content: field(['llmrr.reasoning.v1:{"provider":"anthropic","blocks":[]}', 'gAAAA', '', null, 1], 0.6),
      status: field(['completed', null], 0.8),
    });
  const item = () => (ok() ? pick([message, message, functionCall, functionCallOutput])() : pick(junk));
  const extension = () =>
    ok() ? obj({ strategy: field(['cost-optimized', '']), explain: field([true, false]), fallbacks: field([[], ['a'], ['a', ''], 'a']), cache: field([true, false]) }) : pick(junk);
  // Free-form JSON (tool parameters, a json_schema's schema): the record's copy drops an own `__proto__` key of
  // the object itself, not of the values inside it; at most 64 levels (`nest(n)` nests n objects).
  const nest = (n: number): unknown => (n <= 1 ? {} : { a: nest(n - 1) });
  const nestArrays = (n: number): unknown => (n <= 1 ? [] : [nestArrays(n - 1)]);
  const weather = { type: 'object', properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city'], additionalProperties: false };
  const goodSchemas: Pool = [
    weather,
    {},
    { type: 'object', properties: { path: { type: 'string' }, lines: { type: 'array', items: { type: 'integer' } } } },
    { type: 'object', properties: withProto({ a: { type: 'string' } }, { type: 'object' }) },
    { anyOf: [{ type: 'string' }, { type: 'null' }], $defs: { x: withProto({}, 1) } },
    nest(64),
    { x: nestArrays(63) },
  ];
  const badSchemas: Pool = [withProto({ type: 'object' }), nest(65), { x: nestArrays(64) }, [], [{ type: 'object' }], 'object'];
  const schema = () => (ok() ? pick(goodSchemas) : pick(badSchemas));
  const goodNames: Pool = ['get_weather', 'read_file', 'shell-exec', 'A_1', 'a'.repeat(64)];
  const badNames: Pool = ['a'.repeat(65), 'bad name', 'caf\u00e9', 'f.g', ''];
  const name = () => (ok() ? pick(goodNames) : pick(badNames));
  const tool = () =>
    ok()
      ? obj({
          type: ok() ? 'function' : pick(['web_search', 'custom', '', ABSENT]),
          name: chance(0.05) ? ABSENT : name(),
          description: field(['Gets the weather for a city.', '', null], 0.3),
          parameters: chance(0.1) ? ABSENT : chance(0.05) ? null : schema(),
          strict: field([true, false, null], 0.5),
        })
      : pick(junk);
  // In the schema's key order, or in the Vercel AI SDK's ({ type, strict, name, description, schema }), which the
  // fast path hands on as sent (the echo must give the same bytes either way).
  const jsonSchemaFormat = () => {
    const type = 'json_schema';
    const n = chance(0.05) ? ABSENT : name();
    const s = chance(0.05) ? ABSENT : schema();
    const description = field(['The answer.', null], 0.7);
    const strict = field([true, false, null], 0.5);
    return chance(0.5) ? obj({ type, name: n, schema: s, description, strict }) : obj({ type, strict, name: n, description, schema: s });
  };
  const reasoning = () =>
    ok()
      ? obj({
          effort: field(ok() ? [...REASONING_EFFORTS, null] : ['extreme', '', 'LOW'], 0.2),
          summary: field(ok() ? ['auto', 'concise', 'detailed', null] : ['short', ''], 0.5),
          generate_summary: field(ok() ? ['auto', 'concise', 'detailed', null] : ['long'], 0.9),
        })
      : pick(junk);
  const textField = () =>
    ok()
      ? obj({
          format: chance(0.4)
            ? jsonSchemaFormat()
            : field([{ type: 'text' }, { type: 'json_object' }, { type: 'text', extra: 1 }, { extra: 1, type: 'json_object' }, withProto({ type: 'text' }), { type: 'xml' }, {}, null], 0.3),
          verbosity: field(['low', 'medium', 'high', 'max', null]),
        })
      : pick(junk);

  const body = (): Record<string, unknown> =>
    obj({
      model: field(['bench', 'auto', 'bench', 'auto', 'bench', 'auto', 'm'.repeat(256), 'caf\u00e9', '', 'm'.repeat(257), 'a\u0000b', 'gpt\u0085'], 0.03),
      input: chance(0.4) ? pick(strings) : ok() ? list(item, 3) : pick(junk),
      instructions: field([...strings, null]),
      tool_choice: field(['none', 'auto', 'required', 'any', { type: 'function', name: 'f' }, withProto({ type: 'function', name: 'f' }), { type: 'function' }, { type: '' }, { type: 'function', name: '' }, null], 0.8),
      parallel_tool_calls: field([true, false, null, 'false', 0], 0.8),
      max_output_tokens: field([...positiveInts, null]),
      max_tool_calls: field([...positiveInts, null], 0.8),
      temperature: field([0, 0.7, 2, 2.01, -0.1, null]),
      top_p: field([0, 0.5, 1, 1.1, null]),
      top_logprobs: field([0, 5, 20, 21, -1, 1.5, null], 0.8),
      text: chance(0.2) ? textField() : ABSENT,
      stream: field([true, false, null]),
      stream_options: field([{ include_obfuscation: true }, withProto({}, { include_obfuscation: 'no' }), { include_obfuscation: 'no' }, { include_obfuscation: null }, {}, null], 0.8),
      store: field([true, false, null]),
      background: field([true, false, null], 0.8),
      previous_response_id: field(['resp_1', null], 0.9),
      conversation: field(['conv_1', { id: 'conv_1' }, withProto({ id: 'conv_1' }), { id: 1 }, {}, null], 0.9),
      prompt: field([{ id: 'pmpt_1' }, withProto({ id: 'pmpt_1' }), { id: 1 }, {}, null], 0.9),
      truncation: field(['auto', 'disabled', 'off', null], 0.8),
      include: field([[], ['reasoning.encrypted_content'], ['message.output_text.logprobs', 'web_search_call.results'], ['nope'], [1], null], 0.8),
      metadata: field([{}, { k: 'v' }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])), { ['k'.repeat(64)]: 'v'.repeat(512) }, { ['k'.repeat(65)]: 'v' }, { k: 'v'.repeat(513) }, { k: 1 }, withProto({ k: 'v' }, 'x'), null], 0.8),
      user: field([...strings, null], 0.8),
      safety_identifier: field(['u1', null], 0.9),
      // Any string, whatever its length (an agent's `<uuid>:sub:<uuid>` is 77 characters), or null; not a number or an object.
      prompt_cache_key: field(['0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c', '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d', 'k'.repeat(64), 'k'.repeat(65), '\u{1F600}'.repeat(65), '\ud83d'.repeat(65), '', null, 42, { id: 'k' }], 0.7),
      service_tier: field(['auto', 'default', 'flex', 'scale', 'priority', 'turbo', null], 0.9),
      llmrr: chance(0.3) ? extension() : ABSENT,
      tools: chance(0.35) ? (ok() ? list(tool, 4) : pick(junk)) : chance(0.05) ? pick([[], null]) : ABSENT,
      reasoning: chance(0.3) ? reasoning() : chance(0.03) ? null : ABSENT,
    });

  return {
    next(make: () => unknown): unknown {
      draw.next();
      return make();
    },
    body,
    message,
    functionCall,
    functionCallOutput,
    reasoningItem,
    part,
  };
}

type Generator = ReturnType<typeof generator>;

/** What agents send, by kind: function tools, reasoning, a json_schema format (a body can have all three). */
const agentKinds = (v: unknown): Array<'tools' | 'reasoning' | 'json_schema'> => {
  const b = v as Record<string, unknown>;
  const kinds: Array<'tools' | 'reasoning' | 'json_schema'> = [];
  if (Array.isArray(b.tools) && b.tools.length > 0) kinds.push('tools');
  if (b.reasoning !== undefined && b.reasoning !== null) kinds.push('reasoning');
  if ((b.text as { format?: { type?: unknown } | null } | null | undefined)?.format?.type === 'json_schema') kinds.push('json_schema');
  return kinds;
};

/** `n` generated values of `make` held to `schema` (test-support/fast-check-agreement.ts `agree`). */
function agreeOn(schema: z.ZodType, check: (v: unknown) => boolean, seed: number, make: (g: Generator) => unknown, n: number, outside: (v: unknown) => boolean) {
  const g = generator(seed);
  return agree(schema, check, () => g.next(() => make(g)), n, outside);
}

describe('isWellFormedResponsesRequest and the item checks agree with their zod schemas', () => {
  it('bodies, on 10,000 generated: accepts exactly what the schema accepts (tools, reasoning and json_schema formats included), unchanged', () => {
    // Per kind: fast-accepted bodies, and bodies the schema refuses with an issue in that field.
    const agent = { tools: { accepted: 0, broken: 0 }, reasoning: { accepted: 0, broken: 0 }, json_schema: { accepted: 0, broken: 0 } };
    const fieldOf = { tools: 'tools', reasoning: 'reasoning', json_schema: 'text' } as const;
    let echoed = 0;
    // prompt_cache_key: fast-accepted keys over OpenAI's 64 characters (a hint: never refused for its length), and
    // bodies refused for their key (not a string).
    const keys = { long: 0, broken: 0 };
    const counted = (v: unknown) => {
      const fast = isWellFormedResponsesRequest(v);
      const issues = fast ? [] : (OpenAIResponsesRequestSchema.safeParse(v).error?.issues ?? []);
      const key = (v as { prompt_cache_key?: unknown } | null)?.prompt_cache_key;
      if (fast && typeof key === 'string' && [...key].length > 64) keys.long++;
      if (issues.some((i) => i.path[0] === 'prompt_cache_key')) keys.broken++;
      if (fast) {
        // The answer echoes the body (key order and all): the same bytes as when the schema's copy is echoed.
        const viaSchema = OpenAIResponsesRequestSchema.parse(v) as OpenAIResponsesRequest;
        expect(JSON.stringify(responseEcho(v as OpenAIResponsesRequest))).toBe(JSON.stringify(responseEcho(viaSchema)));
        // The key as sent (absent when absent).
        expect(responseEcho(v as OpenAIResponsesRequest).prompt_cache_key).toBe(key);
        echoed++;
      }
      for (const kind of agentKinds(v)) {
        if (fast) agent[kind].accepted++;
        else if (issues.some((i) => i.path[0] === fieldOf[kind])) agent[kind].broken++;
      }
      return fast;
    };
    const { accepted, refused, protoLeft } = agreeOn(OpenAIResponsesRequestSchema, counted, 20261126, (g) => g.body(), 10_000, () => false);
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(3000);
    expect(protoLeft).toBeGreaterThan(100);
    // Agent bodies on both sides: well-formed ones (fast path), and ones broken in that very field.
    expect(agent.tools.accepted).toBeGreaterThan(250);
    expect(agent.tools.broken).toBeGreaterThan(300);
    expect(agent.reasoning.accepted).toBeGreaterThan(250);
    expect(agent.reasoning.broken).toBeGreaterThan(300);
    expect(agent.json_schema.accepted).toBeGreaterThan(50);
    expect(agent.json_schema.broken).toBeGreaterThan(100);
    expect(echoed).toBe(accepted);
    // 67 and 612 with this seed.
    expect(keys.long).toBeGreaterThan(40);
    expect(keys.broken).toBeGreaterThan(400);
  }, COUNT_BOUNDED);

  const items: Array<[string, z.ZodType, (v: unknown) => boolean, (g: Generator) => unknown]> = [
    ['message items', ResponsesInputMessageSchema, isWellFormedInputMessage, (g) => g.message()],
    ['function_call items', ResponsesFunctionCallItemSchema, isWellFormedFunctionCall, (g) => g.functionCall()],
    ['function_call_output items', ResponsesFunctionCallOutputItemSchema, isWellFormedFunctionCallOutput, (g) => g.functionCallOutput()],
    ['reasoning items', ResponsesReasoningItemSchema, isWellFormedReasoningItem, (g) => g.reasoningItem()],
  ];
  for (const [name, schema, check, make] of items) {
    it(`${name}, on 5,000 generated: exactly what the schema accepts, unchanged`, () => {
      const { accepted, refused, protoLeft } = agreeOn(schema, check, name.length * 7919, make, 5000, () => false);
      expect(accepted).toBeGreaterThan(500);
      expect(refused).toBeGreaterThan(500);
      expect(protoLeft).toBeGreaterThan(10);
    }, COUNT_BOUNDED);
  }

  it('content parts, on 5,000 generated: text and refusal parts exactly as the schema (images go to the schema)', () => {
    const isImage = (v: unknown) => (v as { type?: unknown } | null)?.type === 'input_image';
    const { accepted, refused, protoLeft } = agreeOn(ResponsesContentPartSchema, isWellFormedTextPart, 4242, (g) => g.part(), 5000, isImage);
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(500);
    expect(protoLeft).toBeGreaterThan(10);
  }, COUNT_BOUNDED);

  const nested = (n: number): unknown => (n <= 1 ? {} : { a: nested(n - 1) });
  /** Name, body, and (third) true where the fast check refuses a body the schema accepts, by design. */
  const samples: Array<[string, unknown, boolean?]> = [
    ['the Vercel AI SDK body', { model: 'bench', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Say sixteen words.' }] }], max_output_tokens: 32, stream: true }],
    ['the openai SDK body', { model: 'bench', input: 'hello there', instructions: 'Be kind.' }],
    ['a conversation with a function call and its output', {
      model: 'm',
      input: [
        { role: 'system', content: 'be brief' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather?' }] },
        { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{}', id: 'fc_1', status: 'completed' },
        { type: 'function_call_output', call_id: 'c1', output: 'sunny', id: null, status: null },
      ],
      tool_choice: { type: 'function', name: 'get_weather' },
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      include: ['reasoning.encrypted_content'],
      metadata: { a: 'b' },
      llmrr: { strategy: 'cost-optimized', explain: true, fallbacks: ['x'], cache: false },
      unknown_top_level: { kept: true },
    }],
    ['nulls where the schema allows them', { model: 'm', input: 'hi', instructions: null, tools: null, tool_choice: null, max_output_tokens: null, temperature: null, top_p: null, text: null, reasoning: null, stream: null, stream_options: null, store: null, metadata: null, user: null }],
    ['an empty input array', { model: 'm', input: [] }],
    ['an empty model', { model: '', input: 'hi' }],
    ['a model with a control character', { model: 'mo\u001bdel', input: 'hi' }],
    ['reasoning', { model: 'm', input: 'hi', reasoning: { effort: 'low' } }],
    ['the Codex CLI body (tools, reasoning, function_call items)', {
      model: 'bench',
      instructions: 'You are a coding agent.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files.' }] },
        { type: 'reasoning', summary: [], encrypted_content: 'gAAAA' },
        { type: 'function_call', name: 'shell', arguments: '{"command":["ls"]}', call_id: 'call_1' },
        { type: 'function_call_output', call_id: 'call_1', output: 'a.ts\nb.ts' },
      ],
      tools: [
        { type: 'function', name: 'shell', description: 'Runs a shell command.', strict: false, parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } }, workdir: { type: 'string' } }, required: ['command'], additionalProperties: false } },
        { type: 'function', name: 'update_plan', description: 'Updates the plan.', strict: false, parameters: { type: 'object', properties: {} } },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      reasoning: { effort: 'medium', summary: 'auto' },
      store: false,
      stream: true,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c',
    }],
    ['the Vercel AI SDK body with tools and a forced tool', {
      model: 'bench',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Weather in Oslo?' }] }],
      tools: [{ type: 'function', name: 'get_weather', description: 'Gets the weather.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' }, strict: false }],
      tool_choice: { type: 'function', name: 'get_weather' },
      max_output_tokens: 100,
    }],
    ['the Vercel AI SDK body with structured output', {
      model: 'bench',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'A recipe.' }] }],
      text: { format: { type: 'json_schema', strict: true, name: 'response', schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } } },
    }],
    ['a prompt_cache_key of 64 characters', { model: 'm', input: 'hi', prompt_cache_key: 'k'.repeat(64) }],
    ['a prompt_cache_key of 65 characters (over OpenAI\'s 64: a hint, accepted)', { model: 'm', input: 'hi', prompt_cache_key: 'k'.repeat(65) }],
    ['a prompt_cache_key of 77 characters (an agent\'s <uuid>:sub:<uuid>)', { model: 'm', input: 'hi', prompt_cache_key: '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d' }],
    ['a prompt_cache_key of 64 emoji (128 UTF-16 units, 64 code points)', { model: 'm', input: 'hi', prompt_cache_key: '\u{1F600}'.repeat(64) }],
    ['a prompt_cache_key of 65 emoji (accepted)', { model: 'm', input: 'hi', prompt_cache_key: '\u{1F600}'.repeat(65) }],
    ['a prompt_cache_key that is an object', { model: 'm', input: 'hi', prompt_cache_key: { id: 'k' } }],
    ['a built-in tool (accepted by the schema, refused by type when converted)', { model: 'm', input: 'hi', tools: [{ type: 'web_search' }] }],
    ['a tool name with a dot', { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'a.b' }] }],
    ['a tool name of 65 characters', { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'a'.repeat(65) }] }],
    ['tool parameters as an array', { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters: [] }] }],
    ['tool parameters nesting 64 levels', { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters: nested(64) }] }],
    ['tool parameters nesting 65 levels', { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters: nested(65) }] }],
    ['a json_schema format without a schema', { model: 'm', input: 'hi', text: { format: { type: 'json_schema', name: 'r' } } }],
    ['a json_schema format schema nesting 65 levels', { model: 'm', input: 'hi', text: { format: { type: 'json_schema', name: 'r', schema: nested(65) } } }],
    ['a reasoning summary outside the list', { model: 'm', input: 'hi', reasoning: { effort: 'high', summary: 'short' } }],
    ['reasoning with nulls', { model: 'm', input: 'hi', reasoning: { effort: null, summary: null, generate_summary: null } }],
    ['a __proto__ key in a tool', JSON.parse('{"model":"m","input":"hi","tools":[{"type":"function","name":"f","__proto__":{"name":"g"}}]}'), true],
    ['a __proto__ key in tool parameters', JSON.parse('{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object","__proto__":{}}}]}'), true],
    ['a __proto__ key inside tool parameters (kept by the schema)', JSON.parse('{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{"__proto__":{"type":"string"}}}}]}')],
    ['a __proto__ key in a json_schema format', JSON.parse('{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"r","schema":{},"__proto__":{}}}}'), true],
    ['a __proto__ key in a json_schema schema', JSON.parse('{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"r","schema":{"__proto__":{}}}}}'), true],
    ['a __proto__ key in reasoning', JSON.parse('{"model":"m","input":"hi","reasoning":{"effort":"low","__proto__":{}}}'), true],
    ['an unknown key in llmrr', { model: 'm', input: 'hi', llmrr: { explain: true, nope: 1 } }],
    ['llmrr null (not nullable)', { model: 'm', input: 'hi', llmrr: null }],
    ['stream_options.include_obfuscation null (not nullable)', { model: 'm', input: 'hi', stream: true, stream_options: { include_obfuscation: null } }],
    ['an include value outside the list', { model: 'm', input: 'hi', include: ['nope'] }],
    ['metadata with a 65-character key', { model: 'm', input: 'hi', metadata: { ['k'.repeat(65)]: 'v' } }],
    ['metadata with 16 keys', { model: 'm', input: 'hi', metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'])) }],
    ['metadata with 17 keys', { model: 'm', input: 'hi', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }],
    ['a __proto__ key in metadata', JSON.parse('{"model":"m","input":"hi","metadata":{"__proto__":"x"}}'), true],
    ['a __proto__ key in llmrr', JSON.parse('{"model":"m","input":"hi","llmrr":{"__proto__":{"explain":true}}}')],
    ['a __proto__ key at the top', JSON.parse('{"model":"m","input":"hi","__proto__":{"stream":"yes"}}'), true],
    ['a __proto__ key in text', JSON.parse('{"model":"m","input":"hi","text":{"__proto__":{"verbosity":"x"}}}'), true],
    ['a __proto__ key in text.format', JSON.parse('{"model":"m","input":"hi","text":{"format":{"type":"text","__proto__":{"x":1}}}}'), true],
    ['a __proto__ key in tool_choice', JSON.parse('{"model":"m","input":"hi","tool_choice":{"type":"function","name":"f","__proto__":{}}}'), true],
    ['a __proto__ key in stream_options', JSON.parse('{"model":"m","input":"hi","stream":true,"stream_options":{"__proto__":{}}}'), true],
    ['a __proto__ key in conversation', JSON.parse('{"model":"m","input":"hi","conversation":{"id":"c","__proto__":{}}}'), true],
    ['a __proto__ key in prompt', JSON.parse('{"model":"m","input":"hi","prompt":{"id":"p","__proto__":{}}}'), true],
    ['max_output_tokens 0', { model: 'm', input: 'hi', max_output_tokens: 0 }],
    ['an unsafe integer', { model: 'm', input: 'hi', max_output_tokens: 2 ** 53 }],
  ];
  for (const [name, sample, toSchema] of samples) {
    it(`${name}: ${toSchema ? 'left to the schema' : 'same verdict as the schema'}`, () => {
      const body = viaJson(sample);
      const zod = OpenAIResponsesRequestSchema.safeParse(body);
      const fast = isWellFormedResponsesRequest(body);
      if (fast) expect(ownKeysDeep(zod.data)).toEqual(ownKeysDeep(body));
      if (toSchema) expect(fast).toBe(false);
      else expect(fast).toBe(zod.success);
    });
  }

  it('objects JSON never makes (in-process callers): tool parameters of a class are left to the schema, which refuses them', () => {
    class Params {
      type = 'object';
    }
    const own = (extra: object) => Object.assign({ type: 'object' }, extra);
    for (const parameters of [new Params(), new Date(0), new Map(), own({ constructor: Params }), own({ [Symbol('s')]: 1 })]) {
      const body = { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters }] };
      expect(isWellFormedResponsesRequest(body)).toBe(false);
      expect(OpenAIResponsesRequestSchema.safeParse(body).success).toBe(false);
    }
  });

  it('metadata (a record too) that JSON never makes: refused, or accepted but copied, by the schema; left to it', () => {
    class Tags {
      k = 'v';
    }
    const cases: Array<[unknown, boolean]> = [
      [new Tags(), false],
      [Object.assign({ k: 'v' }, { constructor: Tags }), false],
      [{ k: 'v', [Symbol('s')]: 'v' }, false],
      [Object.assign(Object.create(null) as object, { k: 'v' }), true],
    ];
    for (const [metadata, schemaAccepts] of cases) {
      const body = { model: 'm', input: 'hi', metadata };
      expect(isWellFormedResponsesRequest(body)).toBe(false);
      expect(OpenAIResponsesRequestSchema.safeParse(body).success).toBe(schemaAccepts);
    }
  });

  it('objects JSON never makes that the schema accepts but copies (a null prototype, a non-enumerable symbol key): left to the schema', () => {
    const bare = Object.assign(Object.create(null) as object, { type: 'object' });
    const hidden = Object.defineProperty({ type: 'object' }, Symbol('s'), { value: 1, enumerable: false });
    for (const parameters of [bare, hidden]) {
      const body = { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters }] };
      expect(isWellFormedResponsesRequest(body)).toBe(false);
      const zod = OpenAIResponsesRequestSchema.safeParse(body);
      expect(zod.success).toBe(true);
      const copy = zod.data!.tools![0]!.parameters!;
      expect(copy).not.toBe(parameters);
      expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
      expect(Object.getOwnPropertySymbols(copy)).toEqual([]);
    }
  });

  it('own constructor keys the schema takes as they are (JSON makes a string one; `Object` itself): the fast check accepts them too', () => {
    for (const parameters of [JSON.parse('{"type":"object","constructor":"x"}') as unknown, { type: 'object', constructor: Object }]) {
      const body = { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters }] };
      expect(isWellFormedResponsesRequest(body)).toBe(true);
      const zod = OpenAIResponsesRequestSchema.safeParse(body);
      expect(zod.success).toBe(true);
      expect(ownKeysDeep(zod.data)).toEqual(ownKeysDeep(body));
    }
  });

  it('tool and json_schema names: the same verdict as the schema\u2019s pattern for every character up to U+00FF (and a few past it), at every length up to 65', () => {
    const chars = [...Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)), '\u0660', '\u212a', '\ud83d\ude00', '\ud83d'];
    const names = [...chars.flatMap((c) => [c, `a${c}`, `${c}a`]), ...Array.from({ length: 66 }, (_, n) => 'x'.repeat(n)), 'a\n'];
    for (const name of names) {
      for (const body of [
        { model: 'm', input: 'hi', tools: [{ type: 'function', name }] },
        { model: 'm', input: 'hi', text: { format: { type: 'json_schema', name, schema: {} } } },
      ]) {
        expect({ name, fast: isWellFormedResponsesRequest(body) }).toEqual({ name, fast: OpenAIResponsesRequestSchema.safeParse(body).success });
      }
    }
  });

  it('the include values are the schema\u2019s', () => {
    for (const v of RESPONSES_INCLUDE_VALUES) expect(isWellFormedResponsesRequest({ model: 'm', input: 'x', include: [v] })).toBe(true);
  });
});

describe('validateBody with the Responses fast check', () => {
  it('returns a well-formed body as it is, and still names the field of a bad one', () => {
    const body = viaJson({ model: 'bench', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }], max_output_tokens: 32 });
    expect(validateBody(OpenAIResponsesRequestSchema, body)).toBe(body);
    let error: unknown;
    try {
      validateBody(OpenAIResponsesRequestSchema, { model: 'm', input: 'hi', temperature: 3 });
    } catch (e) {
      error = e;
    }
    expect(LLMError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'invalid_request', param: 'temperature' });
  });

  it('a body with a bad reasoning effort goes to the schema, which names the field', () => {
    expect(() => validateBody(OpenAIResponsesRequestSchema, { model: 'm', input: 'hi', reasoning: { effort: 'extreme' } })).toThrow(/reasoning\.effort/);
  });
});
