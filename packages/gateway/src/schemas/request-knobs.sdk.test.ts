import type { CallWarning, GenerateRequest } from '@llmrr/core';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { WarningEngine } from '../test-support/warning-engine.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';

// The knobs of this session (top_k, verbosity, log probabilities) in the official clients' request shapes, through a
// served gateway: what the engine receives (core's `topK`, `verbosity`, `logprobs`), and the warnings of an engine
// that cannot send them, named as each route's client names them. Bad values are 400s naming the client's field.

/** Records each core request; says `setting_not_sent` for each of the knobs it got, as an engine without them does. */
class KnobEngine extends WarningEngine {
  readonly requests: GenerateRequest[] = [];

  override warningsFor(request: GenerateRequest): CallWarning[] {
    this.requests.push(request);
    const out: CallWarning[] = [];
    if (request.topK !== undefined) out.push({ code: 'setting_not_sent', field: 'topK', message: 'topK was not sent: the provider has no top-k sampling.' });
    if (request.verbosity !== undefined) out.push({ code: 'setting_not_sent', field: 'verbosity', message: 'verbosity was not sent.' });
    if (request.logprobs?.topLogprobs !== undefined) out.push({ code: 'setting_not_sent', field: 'logprobs.topLogprobs', message: 'logprobs.topLogprobs was not sent.' });
    else if (request.logprobs !== undefined) out.push({ code: 'setting_not_sent', field: 'logprobs', message: 'logprobs was not sent.' });
    return out;
  }
}

let gw: SdkGateway;
const engine = new KnobEngine({ modelId: 'knob-test', reply: 'Hi there.' });

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('knob')], routerOptions: { env: {}, engines: { knob: engine } } });
});
afterAll(() => gw?.close());
afterEach(() => {
  engine.requests.length = 0;
});

const last = () => engine.requests.at(-1)!;
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello' }];

describe('/v1/chat/completions', () => {
  it('logprobs, top_logprobs, verbosity and top_k reach the engine; its warnings name the client\u2019s fields (JSON and streamed)', async () => {
    const params = { model: 'knob', messages: ASK, logprobs: true, top_logprobs: 5, verbosity: 'low', top_k: 40 } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const { response } = await gw.openai().chat.completions.create(params).withResponse();
    expect(last()).toMatchObject({ topK: 40, verbosity: 'low', logprobs: { topLogprobs: 5 } });
    const named = [
      ['setting_not_sent', 'top_k'],
      ['setting_not_sent', 'verbosity'],
      ['setting_not_sent', 'top_logprobs'],
    ];
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual(named);
    const { response: streamed } = await gw.openai().chat.completions.create({ ...params, stream: true }).withResponse();
    expect(readWarnings(streamed.headers.get('x-llmrr-warnings'))).toEqual(named);
  });

  it('logprobs true alone asks for the chosen tokens\u2019 log probabilities (logprobs {}), named logprobs', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'knob', messages: ASK, logprobs: true }).withResponse();
    expect(last().logprobs).toEqual({});
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'logprobs']]);
  });

  it('null, false, and top_logprobs 0 without logprobs ask for nothing: nothing set, no warning', async () => {
    const params = { model: 'knob', messages: ASK, logprobs: false, top_logprobs: 0, verbosity: null, top_k: null } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const { response } = await gw.openai().chat.completions.create(params).withResponse();
    for (const key of ['topK', 'verbosity', 'logprobs']) expect(last()).not.toHaveProperty(key);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it.each([
    ['top_logprobs', { top_logprobs: 3 }, 'logprobs must be true'],
    ['top_logprobs', { logprobs: false, top_logprobs: 3 }, 'logprobs must be true'],
    ['top_logprobs', { logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
    ['logprobs', { logprobs: 'yes' }, 'logprobs'],
    ['verbosity', { verbosity: 'max' }, 'verbosity'],
    ['top_k', { top_k: -2 }, 'top_k'],
    ['top_k', { top_k: 2.5 }, 'top_k'],
  ])('%s in %j: a 400 naming it, the engine never called', async (param, extra, text) => {
    const r = await sdkRefusal(gw.openai().chat.completions.create({ model: 'knob', messages: ASK, ...extra } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(r).toMatchObject({ status: 400, param });
    expect(r.message).toContain(text);
    expect(r.message).toMatch(/^Invalid request: /);
    expect(engine.requests).toHaveLength(0);
  });

  it('top_k 0 (OpenRouter\u2019s "off", its default) and -1 (vLLM\u2019s) ask for nothing on chat and legacy completions: no topK, no warning', async () => {
    for (const top_k of [0, -1]) {
      const chat = { model: 'knob', messages: ASK, top_k } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
      const completion = { model: 'knob', prompt: 'Hello', top_k } as unknown as OpenAI.CompletionCreateParamsNonStreaming;
      const { response: chatResponse } = await gw.openai().chat.completions.create(chat).withResponse();
      const { response: completionResponse } = await gw.openai().completions.create(completion).withResponse();
      for (const r of [chatResponse, completionResponse]) expect(r.headers.get('x-llmrr-warnings')).toBeNull();
    }
    expect(engine.requests).toHaveLength(4);
    for (const r of engine.requests) expect(r).not.toHaveProperty('topK');
  });
});

describe('/v1/completions', () => {
  it('logprobs (the legacy count, 0-5) and top_k reach the engine; warnings say logprobs and top_k', async () => {
    const { response } = await gw.openai().completions.create({ model: 'knob', prompt: 'Say hi', logprobs: 3, top_k: 5 } as OpenAI.CompletionCreateParamsNonStreaming).withResponse();
    expect(last()).toMatchObject({ topK: 5, logprobs: { topLogprobs: 3 } });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['setting_not_sent', 'top_k'],
      ['setting_not_sent', 'logprobs'],
    ]);
    await gw.openai().completions.create({ model: 'knob', prompt: 'Say hi', logprobs: 0 });
    expect(last().logprobs).toEqual({});
  });

  it('logprobs 6: a 400 naming it', async () => {
    expect(await sdkRefusal(gw.openai().completions.create({ model: 'knob', prompt: 'Say hi', logprobs: 6 }))).toMatchObject({ status: 400, param: 'logprobs' });
  });
});

describe('/v1/responses', () => {
  it('include message.output_text.logprobs with top_logprobs, and text.verbosity, reach the engine; warnings name top_logprobs and text.verbosity', async () => {
    const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = { model: 'knob', input: 'Hello', include: ['message.output_text.logprobs'], top_logprobs: 2, text: { verbosity: 'high' } };
    const { response } = await gw.openai().responses.create(params).withResponse();
    expect(last()).toMatchObject({ verbosity: 'high', logprobs: { topLogprobs: 2 } });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['setting_not_sent', 'text.verbosity'],
      ['setting_not_sent', 'top_logprobs'],
    ]);
  });

  it('the include alone asks for the chosen tokens\u2019 log probabilities, named by its index (include.N)', async () => {
    const { response } = await gw.openai().responses.create({ model: 'knob', input: 'Hello', include: ['message.output_text.logprobs'] }).withResponse();
    expect(last().logprobs).toEqual({});
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'include.0']]);
  });

  it('top_logprobs above 0 without the include asks too (named top_logprobs); 0 alone asks for nothing', async () => {
    await gw.openai().responses.create({ model: 'knob', input: 'Hello', top_logprobs: 4 });
    expect(last().logprobs).toEqual({ topLogprobs: 4 });
    const { response } = await gw.openai().responses.create({ model: 'knob', input: 'Hello', top_logprobs: 0 }).withResponse();
    expect(last()).not.toHaveProperty('logprobs');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('reasoning.summary (what the AI SDK and Codex send) is said not sent; effort still applies (streamed too)', async () => {
    const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = { model: 'knob', input: 'Hello', reasoning: { effort: 'low', summary: 'auto' } };
    const { response } = await gw.openai().responses.create(params).withResponse();
    expect(last().reasoning).toEqual({ effort: 'low' });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'reasoning.summary']]);
    const { response: streamed } = await gw.openai().responses.create({ ...params, stream: true }).withResponse();
    expect(readWarnings(streamed.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'reasoning.summary']]);
  });

  it('include values the gateway adds nothing for, and unknown keys of text and reasoning, are said by their path', async () => {
    const params = {
      model: 'knob',
      input: 'Hello',
      include: ['file_search_call.results', 'message.output_text.logprobs'],
      text: { verbosity: null, tone: 'dry', empty: {} },
      reasoning: { summary: null, context: 'all_turns' },
    } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming;
    const { response } = await gw.openai().responses.create(params).withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['setting_not_sent', 'include.0'],
      ['setting_not_sent', 'reasoning.context'],
      ['setting_not_sent', 'text.tone'],
      ['setting_not_sent', 'include.1'],
    ]);
  });
});

describe('/v1/messages', () => {
  // @anthropic-ai/sdk 1.14 no longer lists the sampling fields (temperature, top_p, top_k) in MessageCreateParams;
  // older clients, Claude Code and LiteLLM still send them, so they are cast here.
  const withTopK = (top_k: number) => ({ model: 'knob', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], top_k }) as Anthropic.MessageCreateParamsNonStreaming;

  it('top_k reaches the engine as topK (not under providerOptions); the warning says top_k', async () => {
    const { response } = await gw.anthropic().messages.create(withTopK(7)).withResponse();
    expect(last().topK).toBe(7);
    expect(last().providerOptions).toBeUndefined();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'top_k']]);
  });

  it('top_k -1: a 400 naming it (0 asks for nothing, as on chat completions)', async () => {
    const e = (await gw
      .anthropic()
      .messages.create(withTopK(-1))
      .then(
        () => undefined,
        (err: unknown) => err,
      )) as { status: number; error: { error: { message: string } } };
    expect(e.status).toBe(400);
    expect(e.error.error.message).toContain('top_k');
  });
});
