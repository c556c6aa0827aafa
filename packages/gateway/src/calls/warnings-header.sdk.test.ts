import { MockEngine } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { parseList, Token } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WARNINGS_HEADER_MAX } from '../http/warnings-header.js';
import { createHarness, mockModel, post } from '../test-support/harness.js';
import { MID_SYSTEM_CHAT as CHAT, readWarnings as read } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { WarningEngine } from '../test-support/warning-engine.js';

// `x-llmrr-warnings` through a real server and the official clients: on the JSON answers and the streams of every
// model route, naming the client's messages (a /v1/messages system prompt, /v1/responses instructions and dropped
// reasoning items shift core's indexes), absent without warnings, printable ASCII and bounded; and the metric.

let gw: SdkGateway;

const NOISY = [
  { code: 'setting_not_sent', field: 'seed', message: 'Say "no" \\ caf\u00e9 \u{1f600}\r\nx-injected: yes' },
  ...Array.from({ length: 400 }, (_, i) => ({ code: i % 2 === 0 ? 'Not-Snake Case' : `custom_code_${i}`, field: `tools.${i}.cacheControl`, message: 'm'.repeat(50) })),
];

beforeAll(async () => {
  gw = await servedGateway({
    models: [mockModel('warned'), mockModel('plain'), mockModel('noisy')],
    routerOptions: {
      env: {},
      engines: {
        warned: new WarningEngine({ modelId: 'warned-test', reply: 'Hi there.' }),
        plain: new MockEngine({ modelId: 'plain-test', reply: 'Hi there.' }),
        noisy: new WarningEngine({ modelId: 'noisy-test', reply: 'Hi there.' }, NOISY),
      },
    },
  });
});
afterAll(() => gw?.close());

function raw(path: string, body: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('/v1/chat/completions', () => {
  it('JSON: the warnings as the header, with core\u2019s indexes (the client\u2019s on chat completions)', async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'warned', messages: CHAT }).withResponse();
    expect(data.choices[0]!.message.content).toBe('Hi there.');
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['system_message_hoisted', 'messages.3'],
      ['last_message_noted', 'messages.4'],
    ]);
    expect(response.headers.get('x-llmrr-warnings')).toBe(
      'system_message_hoisted;field="messages.3";message="messages.3 was joined into the system prompt.", last_message_noted;field="messages.4";message="messages.4 noted."',
    );
  });

  it('streamed: the header is on the 200, before the first chunk; the stream is unchanged', async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'warned', messages: CHAT, stream: true }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['system_message_hoisted', 'messages.3'],
      ['last_message_noted', 'messages.4'],
    ]);
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hi there.');
  });

  it('no warnings, no header (JSON and streamed)', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'plain', messages: CHAT }).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    expect(response.headers.get('x-llmrr-model')).toBe('plain');
    const streamed = await gw.openai().chat.completions.create({ model: 'plain', messages: CHAT, stream: true }).withResponse();
    for await (const _ of streamed.data) void _;
    expect(streamed.response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('/v1/completions', () => {
  it('JSON and streamed (raw fetch): core message 0 is the client\u2019s prompt', async () => {
    const json = await raw('/v1/completions', { model: 'warned', prompt: 'Say hi' });
    expect(json.status).toBe(200);
    expect(read(json.headers.get('x-llmrr-warnings'))).toEqual([['last_message_noted', 'prompt']]);
    await json.text();
    const streamed = await raw('/v1/completions', { model: 'warned', prompt: 'Say hi', stream: true });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    expect(read(streamed.headers.get('x-llmrr-warnings'))).toEqual([['last_message_noted', 'prompt']]);
    expect(await streamed.text()).toContain('[DONE]');
    const plain = await raw('/v1/completions', { model: 'plain', prompt: 'Say hi', stream: true });
    expect(plain.headers.get('x-llmrr-warnings')).toBeNull();
    await plain.text();
  });
});

describe('/v1/responses: fields name input items', () => {
  // core: [instructions, input.0, input.3, input.4, input.5] (the reasoning items are dropped)
  const input = [
    { role: 'user', content: 'Hello' },
    { type: 'reasoning', id: 'rs_1', summary: [] },
    { type: 'reasoning', id: 'rs_2', summary: [] },
    { role: 'assistant', content: 'Hi.' },
    { role: 'developer', content: 'Now answer in French.' },
    { role: 'user', content: 'How are you?' },
  ] as unknown as OpenAI.Responses.ResponseInput;

  it('JSON: core messages.3 is input.4, the last is input.5; instructions (core message 0) are not hoisted', async () => {
    const { data, response } = await gw.openai().responses.create({ model: 'warned', instructions: 'Be brief.', input }).withResponse();
    expect(data.output_text).toBe('Hi there.');
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['system_message_hoisted', 'input.4'],
      ['last_message_noted', 'input.5'],
    ]);
    // The path in the message is the client's too.
    expect(response.headers.get('x-llmrr-warnings')).toContain('message="input.4 was joined into the system prompt."');
  });

  it('streamed: the same header on the 200', async () => {
    const { data, response } = await gw.openai().responses.create({ model: 'warned', instructions: 'Be brief.', input, stream: true }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['system_message_hoisted', 'input.4'],
      ['last_message_noted', 'input.5'],
    ]);
    const types: string[] = [];
    for await (const event of data) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
  });

  it('a string input is `input`; a system message of the input before any other is hoisted as `input.0`', async () => {
    const { response } = await gw.openai().responses.create({ model: 'warned', instructions: 'Be brief.', input: 'Hello' }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['last_message_noted', 'input']]);
    const sys = await gw
      .openai()
      .responses.create({ model: 'warned', instructions: 'Be brief.', input: [{ role: 'system', content: 'More rules.' }, { role: 'user', content: 'Hello' }] })
      .withResponse();
    expect(read(sys.response.headers.get('x-llmrr-warnings'))).toEqual([
      ['system_message_hoisted', 'input.0'],
      ['last_message_noted', 'input.1'],
    ]);
  });
});

describe('/v1/messages: a system prompt before the messages', () => {
  const body = {
    model: 'warned',
    max_tokens: 50,
    system: 'Be brief.',
    messages: [
      { role: 'user' as const, content: 'Hello' },
      { role: 'assistant' as const, content: 'Hi.' },
      { role: 'user' as const, content: 'How are you?' },
    ],
  };

  it('JSON: core\u2019s last message (messages.3) is the client\u2019s messages.2', async () => {
    const { data, response } = await gw.anthropic().messages.create(body).withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'Hi there.' });
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['last_message_noted', 'messages.2']]);
    expect(response.headers.get('x-llmrr-warnings')).toContain('message="messages.2 noted."');
  });

  it('streamed: the same header on the 200', async () => {
    const { data, response } = await gw.anthropic().messages.create({ ...body, stream: true }).withResponse();
    expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['last_message_noted', 'messages.2']]);
    const types: string[] = [];
    for await (const event of data) types.push(event.type);
    expect(types.at(-1)).toBe('message_stop');
  });

  it('no warnings, no header', async () => {
    const { response } = await gw.anthropic().messages.create({ ...body, model: 'plain' }).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('escaping and the length bound, through node:http', () => {
  it('printable ASCII only (quotes and backslashes escaped, nothing else can split the header), at most 4 KiB, cut with truncated;omitted=N', async () => {
    for (const stream of [false, true]) {
      const res = await raw('/v1/chat/completions', { model: 'noisy', messages: [{ role: 'user', content: 'Hello' }], stream });
      expect(res.status).toBe(200);
      const value = res.headers.get('x-llmrr-warnings')!;
      expect(value).toMatch(/^[\x20-\x7e]+$/);
      expect(value.length).toBeLessThanOrEqual(WARNINGS_HEADER_MAX);
      expect(res.headers.get('x-injected')).toBeNull();
      const members = parseList(value);
      expect(members[0]![0]).toEqual(new Token('last_message_noted'));
      // The messages went first (too long with them), so the first member of NOISY has its field only.
      expect(members[1]).toEqual([new Token('setting_not_sent'), new Map([['field', 'seed']])]);
      // A code that is not a token is an sf-string; core's tools.0.cacheControl is the chat client's tools.0.cache_control.
      expect(members[2]).toEqual(['Not-Snake Case', new Map([['field', 'tools.0.cache_control']])]);
      const last = members.at(-1)!;
      expect(last[0]).toEqual(new Token('truncated'));
      expect(last[1].get('omitted')).toBe(NOISY.length + 1 - (members.length - 1));
      await res.text();
    }
  });

  it('escapes " and \\ and replaces what is not printable ASCII, when the list fits', async () => {
    const engine = new WarningEngine({ reply: 'ok' }, [{ code: 'setting_not_sent', field: 'seed', message: 'Say "no" \\ caf\u00e9\r\nx: y' }]);
    const h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: engine } } });
    try {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'Hello' }] });
      expect(res.headers.get('x-llmrr-warnings')).toBe('last_message_noted;field="messages.0";message="messages.0 noted.", setting_not_sent;field="seed";message="Say \\"no\\" \\\\ caf???x: y"');
      expect(parseList(res.headers.get('x-llmrr-warnings')!)[1]![1].get('message')).toBe('Say "no" \\ caf???x: y');
      await res.text();
    } finally {
      await h.close();
    }
  });
});

describe('llm_warnings_total{code}', () => {
  it('counts the warnings shown, by code; codes past the first 32 and codes that are not snake_case count as other', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const count = (code: string) => Number(text.split('\n').find((l) => l.startsWith(`llm_warnings_total{code="${code}"}`))?.split(' ').at(-1) ?? NaN);
    // The earlier tests of this file (run in order, on this gateway): hoisted system messages in chat JSON and
    // stream, responses JSON and stream, responses with a system input item.
    expect(count('system_message_hoisted')).toBe(5);
    // One per answer with warnings: chat 2, completions 2, responses 4, messages 2, noisy 2.
    expect(count('last_message_noted')).toBe(12);
    expect(count('setting_not_sent')).toBe(2);
    // The noisy answers (twice): 200 codes that are not snake_case, and 200 custom codes of which the first 26 get
    // a label (32 with core's 5 and last_message_noted), so 174 count as other.
    expect(count('custom_code_1')).toBe(2);
    expect(count('custom_code_51')).toBe(2);
    expect(text).not.toContain('code="custom_code_53"');
    expect(text).not.toContain('code="Not-Snake Case"');
    expect(count('other')).toBe(2 * (200 + 174));
    // 32 codes with a label, less the three of core's codes that never came (setting_changed, cache_control_*), and other.
    expect(text.split('\n').filter((l) => l.startsWith('llm_warnings_total{'))).toHaveLength(32 - 3 + 1);
  });
});

describe('CORS', () => {
  it('a browser page may read x-llmrr-warnings', async () => {
    const engine = new WarningEngine({ reply: 'ok' });
    const h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: engine } }, gateway: { cors: { origins: ['https://app.example.com'] } } });
    try {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'Hello' }] }, { origin: 'https://app.example.com' });
      expect(res.headers.get('access-control-expose-headers')?.split(',').map((s) => s.trim())).toContain('x-llmrr-warnings');
      expect(res.headers.get('x-llmrr-warnings')).toContain('last_message_noted');
      await res.text();
    } finally {
      await h.close();
    }
  });
});
