import type { CallOptions, CallWarning, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart } from '@llmrr/core';
import { parseList } from 'structured-headers';
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../auth/principal.js';
import type { Reply } from '../http/reply.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { WarningEngine } from '../test-support/warning-engine.js';
import { showWarnings, wellFormedWarnings } from './call-warnings.js';
import { runModelCall } from './model-call.js';

// x-llmrr-warnings (from the review of 3495f4a): what the header names, and that a warning never fails an answered call.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

describe('x-llmrr-warnings: client paths and malformed warnings', () => {
  it('/v1/completions: a warning about core messages.0 names the client\u2019s own field, prompt (the body has no messages)', async () => {
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: new WarningEngine({ reply: 'ok' }) } } });
    for (const stream of [false, true]) {
      const res = await post(h.gateway, '/v1/completions', { model: 'm', prompt: 'Say hi', stream });
      expect(res.status).toBe(200);
      const value = res.headers.get('x-llmrr-warnings');
      await res.text();
      expect(value).not.toBeNull();
      const fields = parseList(value!).map(([, params]) => params.get('field'));
      // README: "`field` names the client's own body: core's `messages.N` becomes the client's message".
      expect(fields).toEqual(['prompt']);
    }
  });

  it('a custom engine\u2019s warning without a message (plain JS) does not turn an answered /v1/messages call into a 500', async () => {
    // A JS engine's warning missing `message`, about core messages.1 (the client's messages.0 after a system prompt).
    const malformed = { code: 'custom_note', field: 'messages.1' } as unknown as CallWarning;
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: new WarningEngine({ reply: 'ok' }, [malformed]) } } });
    const body = { model: 'm', max_tokens: 20, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] };
    const json = await post(h.gateway, '/v1/messages', body, ANTHROPIC);
    const jsonText = await json.text();
    const streamed = await post(h.gateway, '/v1/messages', { ...body, stream: true }, ANTHROPIC);
    const streamText = await streamed.text();
    // The model answered (and the call is settled as a success before the header is built): the client gets it.
    expect(json.status, jsonText).toBe(200);
    expect(streamed.status, streamText).toBe(200);
  });

  it('/v1/completions with a one-element array prompt: the field is prompt.0', async () => {
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: new WarningEngine({ reply: 'ok' }) } } });
    const res = await post(h.gateway, '/v1/completions', { model: 'm', prompt: ['Say hi'] });
    expect(res.status).toBe(200);
    const members = parseList(res.headers.get('x-llmrr-warnings')!);
    expect(members.map(([, params]) => [params.get('field'), params.get('message')])).toEqual([['prompt.0', 'prompt.0 noted.']]);
    await res.text();
  });

  it('malformed warnings of every kind (plain JS): the answer is a 200, the well-formed ones are shown, the unusable ones counted', async () => {
    const junk = [null, 7, 'text', { code: 42, message: 'm' }, { code: 'no_message', field: 'seed' }, { code: 'bad_field', field: { x: 1 }, message: 'm' }, { code: 'ok_one', message: 'fine' }];
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: new WarningEngine({ reply: 'ok' }, junk as unknown as CallWarning[]) } } });
    for (const stream of [false, true]) {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'Hello' }], stream });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const members = parseList(res.headers.get('x-llmrr-warnings')!).map(([item, params]) => [String(item), Object.fromEntries(params)]);
      expect(members).toEqual([
        ['last_message_noted', { field: 'messages.0', message: 'messages.0 noted.' }],
        ['no_message', { field: 'seed' }],
        ['bad_field', { message: 'm' }],
        ['ok_one', { message: 'fine' }],
        ['invalid_warning', { message: 'The engine sent 4 warnings that are not objects with a string code.' }],
      ]);
    }
  });
});

describe('showWarnings never throws', () => {
  it('well-formed lists are returned as they are; anything else is made into CallWarnings', () => {
    const fine: CallWarning[] = [{ code: 'a', message: 'm' }, { code: 'b', field: 'seed', message: '' }];
    expect(wellFormedWarnings(fine)).toBe(fine);
    expect(wellFormedWarnings(undefined)).toEqual([]);
    expect(wellFormedWarnings('oops')).toEqual([]);
    expect(wellFormedWarnings([null])).toEqual([{ code: 'invalid_warning', message: 'The engine sent 1 warning that is not an object with a string code.' }]);
    expect(wellFormedWarnings([{ code: 'x', field: 3, message: null }])).toEqual([{ code: 'x', message: '' }]);
  });

  it('sets the header and counts the metric from whatever came, without throwing', () => {
    const metrics = new GatewayMetrics();
    const headers: Record<string, string> = {};
    const junk = [undefined, { code: 'custom_note', field: 'messages.1' }, { message: 'no code' }] as unknown as CallWarning[];
    expect(() => showWarnings(junk, ['system', 0], headers, metrics)).not.toThrow();
    expect(headers['x-llmrr-warnings']).toBe('custom_note;field="messages.0", invalid_warning;message="The engine sent 2 warnings that are not objects with a string code."');
    metrics.close();
  });
});

/** Streams `a`, `b`, `c` and records whether its stream was closed before its end (the upstream connection let go). */
class ClosingEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly modelId = 'closing';
  readonly capabilities = { streaming: true, tools: true, json: true };
  closed = false;
  ended = false;

  generate(_request: GenerateRequest, _options?: CallOptions): Promise<GenerateResult> {
    return Promise.reject(new Error('stream only'));
  }

  async *stream(_request: GenerateRequest, _options?: CallOptions): AsyncIterable<StreamPart> {
    try {
      for (const delta of ['a', 'b', 'c']) yield { type: 'text-delta', delta };
      yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 3, totalTokens: 4 } };
      this.ended = true;
    } finally {
      if (!this.ended) this.closed = true;
    }
  }
}

describe('a streamed call that fails after its stream opened, before the reply', () => {
  it('closes the opened stream (the upstream), answers the error and does not hang', async () => {
    const engine = new ClosingEngine();
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: engine } } });
    const logged: string[] = [];
    const reply: Reply = await runModelCall(
      { router: h.router, stores: undefined, metrics: undefined, now: Date.now, defaultMaxOutputTokens: 100, rateLimitOutputTokens: 100, log: (m) => logged.push(m) },
      {
        endpoint: '/v1/chat/completions',
        model: 'm',
        request: { messages: [{ role: 'user', content: 'Hello' }] },
        stream: true,
        ext: {},
        style: 'openai',
        principal: ANONYMOUS,
        requestId: 'req_close',
        startedAt: Date.now(),
        startedMono: performance.now(),
        signal: undefined,
        render: () => ({}),
        encoder: () => {
          throw new Error('encoder broke');
        },
        headers: {},
      },
    );
    expect(reply.status).toBe(500);
    expect(engine.closed).toBe(true);
    expect(engine.ended).toBe(false);
  });
});
