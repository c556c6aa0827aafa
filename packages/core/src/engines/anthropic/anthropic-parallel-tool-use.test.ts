import { describe, expect, it } from 'vitest';
import type { GenerateRequest, ToolChoice } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { collect } from '../../test/async.test-helpers.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// `parallelToolCalls: false` -> `tool_choice.disable_parallel_tool_use: true`, and the sampling penalties Anthropic
// does not have, against the local wire server, which refuses what the API refuses here (`disable_parallel_tool_use`
// on `none`, a forced tool_choice with thinking): every body these tests see answered is one the API takes.

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const hi: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const tools: GenerateRequest['tools'] = [
  { name: 'f', parameters: { type: 'object' } },
  { name: 'g', parameters: { type: 'object' } },
];
const warning = (code: string, field: string, message: string) => ({ code, field, message: expect.stringContaining(message) });
const rawBodies = () => wire.server.requests.map((r) => r.rawBody);

async function warningsOf(request: GenerateRequest, extra = {}): Promise<CallWarning[] | undefined> {
  return (await engine(extra).generate(request)).warnings;
}

describe('anthropic parallelToolCalls false: disable_parallel_tool_use on each tool_choice form', () => {
  const cases: Array<[string, ToolChoice | undefined, Record<string, unknown>]> = [
    ['no toolChoice (Anthropic\u2019s default is auto)', undefined, { type: 'auto', disable_parallel_tool_use: true }],
    ['auto (at most one tool)', 'auto', { type: 'auto', disable_parallel_tool_use: true }],
    ['required -> any (exactly one tool)', 'required', { type: 'any', disable_parallel_tool_use: true }],
    ['a named tool -> tool (exactly one)', { name: 'g' }, { type: 'tool', name: 'g', disable_parallel_tool_use: true }],
    ['none: left as it is (no tool call can happen; the API refuses the field there)', 'none', { type: 'none' }],
  ];
  for (const [label, toolChoice, sent] of cases) {
    it(`${label}: the messages and count_tokens bodies carry it, the server takes both, no warnings`, async () => {
      const request: GenerateRequest = { messages: hi, tools, parallelToolCalls: false, ...(toolChoice !== undefined ? { toolChoice } : {}) };
      const result = await engine().generate(request);
      expect(result).not.toHaveProperty('warnings');
      expect(lastBody().tool_choice).toEqual(sent);
      const parts = await collect(engine().stream(request));
      expect(parts.map((p) => p.type)).not.toContain('warnings');
      expect(parts.at(-1)).toMatchObject({ type: 'finish' });
      expect(lastBody().tool_choice).toEqual(sent);
      expect(typeof (await engine({ options: { exactTokenCount: true } }).countTokens!(request))).toBe('number');
      expect(wire.server.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
      expect(lastBody().tool_choice).toEqual(sent);
    });
  }

  it('the caller\u2019s request is not modified, and the body\u2019s tools are the request\u2019s', async () => {
    const toolChoice: ToolChoice = { name: 'f' };
    const request: GenerateRequest = { messages: hi, tools, toolChoice, parallelToolCalls: false };
    await engine().generate(request);
    expect(toolChoice).toEqual({ name: 'f' });
    expect((lastBody().tools as Array<{ name: string }>).map((t) => t.name)).toEqual(['f', 'g']);
  });

  it('without tools nothing is sent and nothing warned (no tool call can happen)', async () => {
    expect(await warningsOf({ messages: hi, parallelToolCalls: false })).toBeUndefined();
    expect(lastBody()).not.toHaveProperty('tool_choice');
    expect(await warningsOf({ messages: hi, toolChoice: 'auto', parallelToolCalls: false })).toBeUndefined();
    expect(lastBody()).not.toHaveProperty('tool_choice');
  });

  it('tools given verbatim (providerOptions.anthropic.tools) are tools sent: auto with the flag', async () => {
    const verbatimTools = [{ name: 'v', input_schema: { type: 'object' } }];
    expect(await warningsOf({ messages: hi, parallelToolCalls: false, providerOptions: { anthropic: { tools: verbatimTools } } })).toBeUndefined();
    expect(lastBody().tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });
});

describe('anthropic parallelToolCalls true or absent: the body is byte for byte the one without it', () => {
  it('generate, stream and count_tokens bodies are the same bytes', async () => {
    const base: GenerateRequest = { messages: hi, tools, toolChoice: 'auto', temperature: 0.2 };
    for (const variant of [base, { ...base, parallelToolCalls: true }, { ...base, frequencyPenalty: 0, presencePenalty: 0 }]) {
      expect(await warningsOf(variant)).toBeUndefined();
      await collect(engine().stream(variant));
      await engine({ options: { exactTokenCount: true } }).countTokens!(variant);
    }
    const [generated, streamed, counted, ...rest] = rawBodies();
    expect(rest).toEqual([generated, streamed, counted, generated, streamed, counted]);
    expect(JSON.parse(generated!).tool_choice).toEqual({ type: 'auto' });
    // No tools and no toolChoice: still no tool_choice at all.
    await engine().generate({ messages: hi, parallelToolCalls: true });
    expect(lastBody()).not.toHaveProperty('tool_choice');
  });
});

describe('anthropic parallelToolCalls false with JSON mode and thinking', () => {
  const answer = { content: [{ type: 'tool_use' as const, name: 'json_answer', input: { a: 1 } }] };

  it('JSON mode alone: the forced answer tool with the flag (exactly one answer); the answer is the JSON text', async () => {
    wire.server.enqueue(answer);
    const result = await engine().generate({ messages: hi, responseFormat: { type: 'json_object' }, parallelToolCalls: false });
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'json_answer', disable_parallel_tool_use: true });
    expect(result.text).toBe('{"a":1}');
    expect(result).not.toHaveProperty('warnings');
  });

  it('JSON mode with tools: any with the flag (one real call or the JSON answer, never both); a named tool stays tool', async () => {
    await engine().generate({ messages: hi, tools, responseFormat: { type: 'json_object' }, parallelToolCalls: false });
    expect(lastBody().tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    await engine().generate({ messages: hi, tools, toolChoice: { name: 'f' }, responseFormat: { type: 'json_object' }, parallelToolCalls: false });
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'f', disable_parallel_tool_use: true });
  });

  it('thinking with auto (or no toolChoice) is kept: auto with the flag is no forced choice; the server takes it', async () => {
    for (const [extra, thinking] of [
      [{}, 'enabled'],
      [{ model: 'claude-opus-4-7' }, 'adaptive'],
    ] as const) {
      for (const toolChoice of [undefined, 'auto'] as const) {
        const request: GenerateRequest = { messages: hi, tools, reasoning: { effort: 'low' }, parallelToolCalls: false, ...(toolChoice ? { toolChoice } : {}) };
        expect(await warningsOf(request, extra)).toBeUndefined();
        expect(lastBody()).toMatchObject({ thinking: { type: thinking }, tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
        const parts = await collect(engine(extra).stream(request));
        expect(parts.at(-1)).toMatchObject({ type: 'finish' });
      }
    }
  });

  it('thinking with a forced choice or JSON mode: thinking dropped as before (warned), the forced choice carries the flag', async () => {
    expect(await warningsOf({ messages: hi, tools, toolChoice: 'required', reasoning: { effort: 'low' }, parallelToolCalls: false })).toEqual([
      warning('setting_not_sent', 'reasoning', 'forced tool choice'),
    ]);
    expect(lastBody()).not.toHaveProperty('thinking');
    expect(lastBody().tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    wire.server.enqueue(answer);
    expect(await warningsOf({ messages: hi, responseFormat: { type: 'json_object' }, reasoning: { effort: 'low' }, parallelToolCalls: false })).toEqual([
      warning('setting_not_sent', 'reasoning', 'forced tool choice'),
    ]);
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'json_answer', disable_parallel_tool_use: true });
  });
});

describe('anthropic parallelToolCalls false under a verbatim providerOptions.anthropic.tool_choice (it wins)', () => {
  const notSent = warning('setting_not_sent', 'parallelToolCalls', 'providerOptions.anthropic.tool_choice');

  it('one without the flag is sent as given, and the call says parallelToolCalls was not sent (generate and stream)', async () => {
    const verbatim = { type: 'auto' };
    const request: GenerateRequest = { messages: hi, tools, toolChoice: 'required', parallelToolCalls: false, providerOptions: { anthropic: { tool_choice: verbatim } } };
    expect(await warningsOf(request)).toEqual([notSent]);
    expect(lastBody().tool_choice).toEqual({ type: 'auto' });
    expect(verbatim).toEqual({ type: 'auto' });
    const parts = await collect(engine().stream(request));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: [notSent] });
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
  });

  it('one carrying disable_parallel_tool_use true, or none, does what was asked: no warning', async () => {
    for (const tool_choice of [{ type: 'any', disable_parallel_tool_use: true }, { type: 'none' }]) {
      expect(await warningsOf({ messages: hi, tools, parallelToolCalls: false, providerOptions: { anthropic: { tool_choice } } })).toBeUndefined();
      expect(lastBody().tool_choice).toEqual(tool_choice);
    }
  });

  it('one with disable_parallel_tool_use false is warned; without parallelToolCalls false nothing is said', async () => {
    const tool_choice = { type: 'auto', disable_parallel_tool_use: false };
    expect(await warningsOf({ messages: hi, tools, parallelToolCalls: false, providerOptions: { anthropic: { tool_choice } } })).toEqual([notSent]);
    expect(await warningsOf({ messages: hi, tools, providerOptions: { anthropic: { tool_choice } } })).toBeUndefined();
    expect(lastBody().tool_choice).toEqual(tool_choice);
  });
});

describe('anthropic frequencyPenalty and presencePenalty (no Anthropic equivalent)', () => {
  it('not sent, a setting_not_sent warning each, in generate and as the stream\u2019s first part', async () => {
    const request: GenerateRequest = { messages: hi, frequencyPenalty: 0.5, presencePenalty: -1.2 };
    const expected = [warning('setting_not_sent', 'frequencyPenalty', 'no sampling penalties'), warning('setting_not_sent', 'presencePenalty', 'no sampling penalties')];
    expect(await warningsOf(request)).toEqual(expected);
    const parts = await collect(engine().stream(request));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: expected });
    expect(parts.slice(1).map((p) => p.type)).not.toContain('warnings');
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    for (const body of wire.server.requests.map((r) => r.body!)) {
      expect(Object.keys(body).filter((k) => /penalty/i.test(k))).toEqual([]);
    }
  });

  it('one alone is one warning, after seed\u2019s; a penalty of 0 (no penalty, as Anthropic samples) says nothing', async () => {
    expect(await warningsOf({ messages: hi, seed: 1, presencePenalty: 2 })).toEqual([warning('setting_not_sent', 'seed', 'seed'), warning('setting_not_sent', 'presencePenalty', 'presencePenalty')]);
    expect(await warningsOf({ messages: hi, frequencyPenalty: -2 })).toEqual([warning('setting_not_sent', 'frequencyPenalty', 'frequencyPenalty')]);
    expect(await warningsOf({ messages: hi, frequencyPenalty: 0, presencePenalty: 0 })).toBeUndefined();
  });
});
