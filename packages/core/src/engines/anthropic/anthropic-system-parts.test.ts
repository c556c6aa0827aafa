import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { CacheControl, GenerateRequest, TextPart } from '../../spec/messages.js';
import { collect } from '../../test/async.test-helpers.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// A system message's `parts`: the client's system blocks with their marks (Claude Code sends an unmarked billing
// header, then two marked blocks). The Anthropic engine sends them as the client did, one system block per
// non-empty part; `content` (the joined text every other engine sends) is not what it sends then. Against a
// local peer that enforces Anthropic's cache_control rules (4 marks, no mark on empty text, 1h before 5m).

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const m5: CacheControl = { type: 'ephemeral' };
const m1h: CacheControl = { type: 'ephemeral', ttl: '1h' };
const wire5 = { type: 'ephemeral' };

const HEADER = 'x-anthropic-billing-header: cc_version=2.1.37; cc_entrypoint=cli;';
const IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude.";
const PROMPT = 'You are an interactive CLI tool that helps users with software engineering tasks.';

const claudeCodeParts: TextPart[] = [
  { type: 'text', text: HEADER },
  { type: 'text', text: IDENTITY, cacheControl: m5 },
  { type: 'text', text: PROMPT, cacheControl: m5 },
];

const claudeCode = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [
    { role: 'system', content: [HEADER, IDENTITY, PROMPT].join('\n'), parts: claudeCodeParts },
    { role: 'user', content: [{ type: 'text', text: 'Fix the failing test.', cacheControl: m5 }] },
  ],
  ...extra,
});

describe('anthropic: a system message with parts', () => {
  it('sends one system block per part with the part\u2019s mark (Claude Code\u2019s prompt as it sent it)', async () => {
    await engine().generate(claudeCode());
    expect(lastBody().system).toEqual([
      { type: 'text', text: HEADER },
      { type: 'text', text: IDENTITY, cache_control: wire5 },
      { type: 'text', text: PROMPT, cache_control: wire5 },
    ]);
    expect(lastBody().messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Fix the failing test.', cache_control: wire5 }] }]);
  });

  it('leaves empty parts out, puts the message\u2019s own mark on its last block, keeps the other system messages as blocks', async () => {
    await engine().generate({
      messages: [
        { role: 'system', content: 'Before.' },
        { role: 'system', content: 'A\n\nB\n', parts: [{ type: 'text', text: 'A', cacheControl: m1h }, { type: 'text', text: '' }, { type: 'text', text: 'B' }, { type: 'text', text: '' }], cacheControl: m5 },
        { role: 'system', content: 'After.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(lastBody().system).toEqual([
      { type: 'text', text: 'Before.' },
      { type: 'text', text: 'A', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: 'B', cache_control: wire5 },
      { type: 'text', text: 'After.' },
    ]);
  });

  it('parts without any mark: the content as today (the string join of the system messages)', async () => {
    await engine().generate({
      messages: [
        { role: 'system', content: 'A\nB', parts: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] },
        { role: 'system', content: 'C' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(lastBody().system).toBe('A\nB\n\nC');
    // Marks only on empty parts: nothing to mark, the same.
    await engine().generate({ messages: [{ role: 'system', content: 'A\n', parts: [{ type: 'text', text: 'A' }, { type: 'text', text: '', cacheControl: m5 }] }, { role: 'user', content: 'Hi' }] });
    expect(lastBody().system).toBe('A\n');
  });

  it('without parts nothing changes: a marked system message is one block', async () => {
    await engine().generate({ messages: [{ role: 'system', content: 'S', cacheControl: m5 }, { role: 'user', content: 'Hi' }] });
    expect(lastBody().system).toEqual([{ type: 'text', text: 'S', cache_control: wire5 }]);
  });

  it('keeps within the 4 marks the peer accepts: the earliest dropped (2 tools, 2 system parts, automatic)', async () => {
    const tools = ['t1', 't2'].map((name) => ({ name, parameters: { type: 'object' }, cacheControl: m5 }));
    await engine().generate(claudeCode({ tools, cacheControl: m5 }));
    const body = lastBody();
    // The last user block's mark gives way to the automatic breakpoint; of the 4 explicit marks left, the
    // earliest (the first tool's) is dropped to leave 3 beside it. The peer refuses more than 4.
    expect(body.tools).toEqual([
      { name: 't1', input_schema: { type: 'object' } },
      { name: 't2', input_schema: { type: 'object' }, cache_control: wire5 },
    ]);
    expect(body.system).toEqual([
      { type: 'text', text: HEADER },
      { type: 'text', text: IDENTITY, cache_control: wire5 },
      { type: 'text', text: PROMPT, cache_control: wire5 },
    ]);
    expect(body.cache_control).toEqual(wire5);
  });

  it('streams and counts tokens with the same system blocks', async () => {
    await collect(engine().stream(claudeCode()));
    const streamed = lastBody().system;
    await engine({ options: { exactTokenCount: true } }).countTokens(claudeCode());
    expect(wire.server.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
    expect(lastBody().system).toEqual(streamed);
    expect(streamed).toHaveLength(3);
  });

  it('refuses malformed parts with invalid_request naming the field, before any request', async () => {
    const bad = async (parts: unknown) => {
      const error = await engine()
        .generate({ messages: [{ role: 'system', content: 'S', parts: parts as TextPart[] }, { role: 'user', content: 'Hi' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(LLMError);
      return error as LLMError;
    };
    expect(await bad('S')).toMatchObject({ code: 'invalid_request', param: 'messages.0.parts' });
    expect(await bad([{ type: 'image', url: 'https://x/y.png' }])).toMatchObject({ code: 'invalid_request', param: 'messages.0.parts.0' });
    expect(await bad([{ type: 'text', text: 'S', cacheControl: { type: 'ephemeral', ttl: '2h' } }])).toMatchObject({ code: 'invalid_request', param: 'messages.0.parts.0.cacheControl.ttl' });
    expect(wire.server.requests).toHaveLength(0);
  });
});
