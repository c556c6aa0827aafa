import { describe, expect, it } from 'vitest';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { GEMINI_TOOL_NAME, longToolNames, restoreStreamToolNames, restoreToolCallNames, shortToolName, withShortToolNames } from './short-tool-names.js';

const LONG = 'mcp__plugin_chrome-devtools-mcp_chrome-devtools__get_console_message';

describe('shortToolName', () => {
  it('keeps a name of up to 64 characters; a longer one is 64, in OpenAI\u2019s charset, stable and distinct', () => {
    expect(shortToolName('x'.repeat(64))).toBe('x'.repeat(64));
    const short = shortToolName(LONG);
    expect(short).toHaveLength(64);
    expect(short).toMatch(/^[a-zA-Z0-9_-]{64}$/);
    expect(short.startsWith(`${LONG.slice(0, 16)}_`)).toBe(true);
    expect(short.endsWith(`_${LONG.slice(-30)}`)).toBe(true);
    expect(shortToolName(LONG)).toBe(short);
    expect(shortToolName(`${LONG}s`)).not.toBe(short);
    expect(shortToolName(`${'a.b'.repeat(30)}`)).toMatch(/^[a-zA-Z0-9_-]{64}$/);
  });

  // Claude Code's MCP names are `mcp__<server>__<tool>`: the server's part first, the tool's own name last.
  // chrome-devtools-mcp's prefix `mcp__plugin_chrome-devtools-mcp_chrome-devtools` is 47 characters: kept whole, every
  // one of its long tools would read the same to the model but for a hash (review of 1b98193).
  it('keeps the end of a long name, where an MCP tool has its own name: its tools stay told apart', () => {
    const server = 'mcp__plugin_chrome-devtools-mcp_chrome-devtools__';
    const tools = ['get_console_message', 'list_console_messages', 'get_network_request', 'list_network_requests', 'performance_start_trace', 'performance_stop_trace', 'performance_analyze_insight'];
    const sent = tools.map((t) => shortToolName(server + t));
    expect(sent.every((s) => s.length <= 64 && /^[a-zA-Z0-9_-]+$/.test(s))).toBe(true);
    expect(sent.map((s, i) => s.includes(tools[i]!))).toEqual(tools.map(() => true));
    expect(new Set(sent).size).toBe(tools.length);
  });
});

describe('shortToolName with a charset rule (Gemini: a letter or _ first)', () => {
  const gemini = (name: string): string => shortToolName(name, 64, GEMINI_TOOL_NAME);
  it('keeps a name Gemini takes; renames `-x`, `1x` and long digit-led names to stable, distinct, valid names', () => {
    expect(gemini('get_weather')).toBe('get_weather');
    expect(gemini('a.b:c-d')).toBe('a.b:c-d');
    const names = ['-x', '1x', '_x', `9${'y'.repeat(60)}`, `-${LONG}`, 'a b'];
    const sent = names.map(gemini);
    expect(sent[2]).toBe('_x');
    for (const s of sent) expect(s).toMatch(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/);
    expect(new Set(sent).size).toBe(names.length);
    expect(names.map(gemini)).toEqual(sent);
    expect(sent[0]!.endsWith('_-x')).toBe(true);
    // Without the rule (OpenAI), the same names are kept.
    expect(shortToolName('-x')).toBe('-x');
  });

  it('longToolNames with the rule maps such names both ways, and allocates nothing when all are valid', () => {
    const names = longToolNames({ messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'ok', parameters: {} }, { name: '1x', parameters: {} }] }, 64, GEMINI_TOOL_NAME)!;
    expect(names.fields).toEqual([1]);
    expect(names.back.get(names.wire.get('1x')!)).toBe('1x');
    expect(longToolNames({ messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'ok', parameters: {} }] }, 64, GEMINI_TOOL_NAME)).toBeUndefined();
  });
});

describe('longToolNames / withShortToolNames / restore', () => {
  const request: GenerateRequest = {
    messages: [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: LONG, arguments: '{}' }, { id: 'c2', name: 'short', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', content: 'ok' },
    ],
    tools: [{ name: 'short', parameters: {} }, { name: LONG, parameters: {} }],
    toolChoice: { name: LONG },
  };

  it('nothing over 64: undefined (nothing allocated)', () => {
    expect(longToolNames({ messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'short', parameters: {} }] })).toBeUndefined();
  });

  it('renames tools, toolChoice and history calls in a copy, and gives calls and stream parts back', async () => {
    const names = longToolNames(request)!;
    expect(names.fields).toEqual([1]);
    const short = shortToolName(LONG);
    const sent = withShortToolNames(request, names);
    expect(sent.tools!.map((t) => t.name)).toEqual(['short', short]);
    expect(sent.toolChoice).toEqual({ name: short });
    expect((sent.messages[1] as { toolCalls: Array<{ name: string }> }).toolCalls.map((c) => c.name)).toEqual([short, 'short']);
    expect(request.tools![1]!.name).toBe(LONG);
    const calls = [{ id: 'a', name: short, arguments: '{}' }, { id: 'b', name: 'short', arguments: '{}' }];
    restoreToolCallNames(calls, names);
    expect(calls.map((c) => c.name)).toEqual([LONG, 'short']);
    async function* parts(): AsyncGenerator<StreamPart> {
      yield { type: 'tool-call-delta', index: 0, id: 'a', name: short, argumentsDelta: '' };
      yield { type: 'tool-call', index: 0, toolCall: { id: 'a', name: short, arguments: '{}' } };
      yield { type: 'text-delta', delta: 'x' } as StreamPart;
    }
    const out: StreamPart[] = [];
    for await (const p of restoreStreamToolNames(parts(), names)) out.push(p);
    expect(out[0]).toMatchObject({ name: LONG });
    expect(out[1]).toMatchObject({ toolCall: { name: LONG } });
    expect(out[2]).toEqual({ type: 'text-delta', delta: 'x' });
  });
});
