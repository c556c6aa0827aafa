import { parseList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { readWarnings as read } from '../test-support/read-warnings.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The built-in engines' warnings name core's request fields (`frequencyPenalty`, `parallelToolCalls`,
// `promptCacheKey`); the gateway shows each as the client's own field on its route, in `field` and in `message`.
// In the message only as a whole word: not inside a hyphenated word of the engine's prose (Gemini's "no end-user id
// field" stays with `user` as `metadata.user_id` or `safety_identifier`), and the engines' prose does not use a core
// field's plain-word name as a word ("the answer does not stop there" read "does not stop_sequences there"). An
// error's message names the client's fields too, not only its `param`'s: a context-window refusal (param `messages`)
// counts the client's `max_tokens` (`max_completion_tokens` on chat completions), not core's `maxTokens`. Other core
// fields named in the text are renamed only in core's and the gateway's own errors: a warning's text (or a provider's
// error) may quote the client's own words, such as a strict tool schema's keyword `maxTokens`.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gem'), wireDeployment(u, 'gpt', { name: 'small', contextWindow: 100 })]);

/** The `message` parameter of the warning whose `field` is `field`. */
function messageOf(header: string | null, field: string): unknown {
  return parseList(header ?? '').find(([, params]) => params.get('field') === field)?.[1].get('message');
}

const TOOLS = [{ name: 'lookup', description: 'Looks a word up.', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];

describe('x-llmrr-warnings names the client\u2019s fields', () => {
  it('/v1/chat/completions to an Anthropic deployment: frequency_penalty, JSON and streamed', async () => {
    for (const stream of [false, true] as const) {
      const { data, response } = await wire.gw
        .openai()
        .chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hello' }], frequency_penalty: 0.5, seed: 7, stream })
        .withResponse();
      const header = response.headers.get('x-llmrr-warnings');
      expect(read(header).sort()).toEqual([
        ['setting_not_sent', 'frequency_penalty'],
        ['setting_not_sent', 'seed'],
      ]);
      expect(messageOf(header, 'frequency_penalty')).toBe('frequency_penalty was not sent: Anthropic has no sampling penalties.');
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
    }
  });

  it('/v1/messages to a Gemini deployment: tool_choice.disable_parallel_tool_use', async () => {
    for (const stream of [false, true]) {
      const res = await fetch(`${wire.gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': wire.gw.secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gem',
          max_tokens: 50,
          messages: [{ role: 'user', content: 'Hello' }],
          tools: TOOLS,
          tool_choice: { type: 'auto', disable_parallel_tool_use: true },
          stream,
        }),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const header = res.headers.get('x-llmrr-warnings');
      expect(read(header)).toEqual([['setting_not_sent', 'tool_choice.disable_parallel_tool_use']]);
      expect(messageOf(header, 'tool_choice.disable_parallel_tool_use')).toMatch(/^tool_choice\.disable_parallel_tool_use true was not sent: Gemini has no switch for it/);
    }
  });

  it('/v1/responses to a Gemini deployment: prompt_cache_key', async () => {
    for (const stream of [false, true] as const) {
      const { data, response } = await wire.gw.openai().responses.create({ model: 'gem', input: 'Hello', prompt_cache_key: 'tenant-a', stream }).withResponse();
      const header = response.headers.get('x-llmrr-warnings');
      expect(read(header)).toEqual([['setting_not_sent', 'prompt_cache_key']]);
      expect(messageOf(header, 'prompt_cache_key')).toMatch(/^prompt_cache_key was not sent/);
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
    }
  });

  it('/v1/completions to an Anthropic deployment: presence_penalty', async () => {
    const { response } = await wire.gw.openai().completions.create({ model: 'claude', prompt: 'Hello', presence_penalty: 1 }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'presence_penalty']]);
  });
});

describe('x-llmrr-warnings messages read as prose', () => {
  it('/v1/messages metadata.user_id to a Gemini deployment: "metadata.user_id was not sent: Gemini has no end-user id field."', async () => {
    const { response } = await wire.gw.anthropic().messages.create({ model: 'gem', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }], metadata: { user_id: 'u-1' } }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'metadata.user_id']]);
    expect(messageOf(response.headers.get('x-llmrr-warnings'), 'metadata.user_id')).toBe('metadata.user_id was not sent: Gemini has no end-user id field.');
  });

  it('/v1/responses safety_identifier to a Gemini deployment: "safety_identifier was not sent: Gemini has no end-user id field."', async () => {
    const { response } = await wire.gw.openai().responses.create({ model: 'gem', input: 'Hi', safety_identifier: 'u-1' }).withResponse();
    expect(messageOf(response.headers.get('x-llmrr-warnings'), 'safety_identifier')).toBe('safety_identifier was not sent: Gemini has no end-user id field.');
  });

  it('/v1/messages stop_sequences ["\\n"] to an Anthropic deployment: the field is named once, the rest is prose', async () => {
    const { response } = await wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }], stop_sequences: ['\n'] }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'stop_sequences']]);
    expect(messageOf(response.headers.get('x-llmrr-warnings'), 'stop_sequences')).toBe(
      'stop_sequences was not sent: Anthropic refuses a sequence that is only white space (the answer does not end there).',
    );
  });

  it('a strict tool schema keyword the client wrote (maxTokens) is quoted as written, not renamed max_completion_tokens', async () => {
    const { response } = await wire.gw
      .openai()
      .chat.completions.create({
        model: 'claude',
        max_completion_tokens: 50,
        messages: [{ role: 'user', content: 'Hi' }],
        tools: [{ type: 'function', function: { name: 'set_limit', strict: true, parameters: { type: 'object', properties: { n: { type: 'integer', maxTokens: 5 } }, required: ['n'], additionalProperties: false } } }],
      } as never)
      .withResponse();
    const header = response.headers.get('x-llmrr-warnings');
    expect(read(header)).toContainEqual(['setting_not_sent', 'tools.0.function.strict']);
    expect(messageOf(header, 'tools.0.function.strict')).toContain('schema.properties.n uses maxTokens, which strict mode does not take');
  });
});

describe('error messages name the client\u2019s fields, not only the param', () => {
  const LONG = 'word '.repeat(500);

  it('/v1/messages: a context-window refusal (param messages) counts max_tokens, not maxTokens', async () => {
    const r = await sdkRefusal(wire.gw.anthropic().messages.create({ model: 'small', max_tokens: 20, messages: [{ role: 'user', content: LONG }] }));
    expect(r).toMatchObject({ status: 400, param: 'messages' });
    expect(r.message).toMatch(/input \+ 20 max_tokens\)/);
    expect(r.message).not.toContain('maxTokens');
  });

  it('/v1/chat/completions: the same counts max_completion_tokens, or max_tokens when that is the one sent', async () => {
    const completion = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'small', max_completion_tokens: 20, messages: [{ role: 'user', content: LONG }] }));
    expect(completion).toMatchObject({ status: 400, param: 'messages' });
    expect(completion.message).toMatch(/input \+ 20 max_completion_tokens\)/);
    const legacy = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'small', max_tokens: 20, messages: [{ role: 'user', content: LONG }] }));
    expect(legacy.message).toMatch(/input \+ 20 max_tokens\)/);
  });
});
