import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// Review of a38df52 ("a mark never changes the text a deployment sees"). The principle: a prompt-cache mark
// changes the bill, never the text any deployment sees. a38df52 makes that hold when only the LAST system block
// is marked, and its test calls that "Claude Code's shape". Claude Code's real system prompt (captures of
// 2.1.x: a billing-header block, then two marked blocks, e.g. "x-anthropic-billing-header: ...",
// {"You are Claude Code...", cache_control}, {"<the long prompt>", cache_control}) marks an EARLIER block too,
// so systemSegments still cuts it into two system messages: an OpenAI-compatible deployment gets two system
// messages where the unmarked prompt gives one, Gemini a "\n\n" join where the unmarked prompt has "\n".
// And a mark followed by empty blocks drops their separators: the text changes (and the exact cache splits).
// Now a marked system prompt is one core system message whose content is the unmarked join; its blocks with their
// marks go along as `parts`, which only the Anthropic engine sends (as the client's blocks, marks where it put them).

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'gem'), wireDeployment(u, 'claude')], { cache: { exact: { enabled: true } } });

const EPH = { type: 'ephemeral' } as const;
const NO_CACHE = { llmrr: { cache: false } } as object;

/** Claude Code 2.1.x's system prompt: an unmarked billing header, then the identity and the long prompt, both marked. */
const claudeCodeSystem = (mark: boolean): Anthropic.TextBlockParam[] => [
  { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.37; cc_entrypoint=cli;' },
  { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", ...(mark ? { cache_control: EPH } : {}) },
  { type: 'text', text: 'You are an interactive CLI tool that helps users with software engineering tasks.', ...(mark ? { cache_control: EPH } : {}) },
];

const claudeCodeBody = (model: string, mark: boolean): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 100,
  ...NO_CACHE,
  system: claudeCodeSystem(mark),
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Fix the failing test.', ...(mark ? { cache_control: EPH } : {}) }] }],
});

const sentMessages = () => wire.upstreams.openai.requests.map((r) => (r.body as { messages: unknown[] }).messages);

describe('Claude Code\u2019s real system prompt (an earlier block marked too)', () => {
  it('/v1/messages -> OpenAI-compatible: Claude Code\u2019s marked system prompt reaches the deployment as the same one system message as unmarked', async () => {
    await wire.gw.anthropic().messages.create(claudeCodeBody('gpt', false));
    await wire.gw.anthropic().messages.create(claudeCodeBody('gpt', true));
    const [unmarked, marked] = sentMessages();
    expect(unmarked).toEqual([
      {
        role: 'system',
        content:
          "x-anthropic-billing-header: cc_version=2.1.37; cc_entrypoint=cli;\nYou are Claude Code, Anthropic's official CLI for Claude.\nYou are an interactive CLI tool that helps users with software engineering tasks.",
      },
      { role: 'user', content: 'Fix the failing test.' },
    ]);
    // a38df52 sends two system messages here ("header\nidentity", then the long prompt): chat templates such as
    // Mistral's refuse that, and the text is not the unmarked request's.
    expect(marked).toEqual(unmarked);
  });

  it('/v1/messages -> Gemini: Claude Code\u2019s marked system prompt gives the same systemInstruction as unmarked', async () => {
    await wire.gw.anthropic().messages.create(claudeCodeBody('gem', false));
    await wire.gw.anthropic().messages.create(claudeCodeBody('gem', true));
    const sent = wire.upstreams.gemini.requests.filter((r) => r.rpc === 'generateContent').map((r) => (r.body as { systemInstruction?: unknown }).systemInstruction);
    expect(sent).toHaveLength(2);
    // a38df52: "...header\nidentity\n\nlong prompt" (the Gemini engine's join of two system messages) against
    // "...header\nidentity\nlong prompt".
    expect(sent[1]).toEqual(sent[0]);
  });

  it('/v1/chat/completions -> OpenAI-compatible: a system message whose two parts are both marked (LiteLLM convention) stays one system message', async () => {
    const body = (mark: boolean): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
      model: 'gpt',
      ...NO_CACHE,
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'You are terse. ', ...(mark ? { cache_control: EPH } : {}) },
            { type: 'text', text: 'Long rules.', ...(mark ? { cache_control: EPH } : {}) },
          ] as OpenAI.ChatCompletionContentPartText[],
        },
        { role: 'user', content: 'q' },
      ],
    });
    await wire.gw.openai().chat.completions.create(body(false));
    await wire.gw.openai().chat.completions.create(body(true));
    const [unmarked, marked] = sentMessages();
    expect(unmarked).toEqual([
      { role: 'system', content: 'You are terse. \nLong rules.' },
      { role: 'user', content: 'q' },
    ]);
    expect(marked).toEqual(unmarked);
  });
});

describe('the marks still reach an Anthropic deployment where the client put them', () => {
  it('/v1/messages -> Anthropic: Claude Code\u2019s system prompt as its three blocks, both marks on theirs (the peer checks the cache rules)', async () => {
    const reply = await wire.gw.anthropic().messages.create(claudeCodeBody('claude', true));
    expect(reply.type).toBe('message');
    const sent = wire.upstreams.anthropic.requests.at(-1)!.body as { system: unknown; messages: unknown };
    expect(sent.system).toEqual(claudeCodeSystem(true));
    expect(sent.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Fix the failing test.', cache_control: EPH }] }]);
  });

  it('/v1/chat/completions -> Anthropic: a system message\u2019s two marked parts as two system blocks with their marks', async () => {
    await wire.gw.openai().chat.completions.create({
      model: 'claude',
      ...NO_CACHE,
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'You are terse. ', cache_control: EPH },
            { type: 'text', text: 'Long rules.', cache_control: EPH },
          ] as unknown as OpenAI.ChatCompletionContentPartText[],
        },
        { role: 'user', content: 'q' },
      ],
    });
    expect((wire.upstreams.anthropic.requests.at(-1)!.body as { system: unknown }).system).toEqual([
      { type: 'text', text: 'You are terse. ', cache_control: EPH },
      { type: 'text', text: 'Long rules.', cache_control: EPH },
    ]);
  });
});

describe('empty system blocks after the last mark', () => {
  const system = (mark: boolean): Anthropic.TextBlockParam[] => [
    { type: 'text', text: 'Rules.', ...(mark ? { cache_control: EPH } : {}) },
    { type: 'text', text: '' },
  ];

  it('/v1/messages system [A marked, ""] -> OpenAI-compatible: the same system text as [A, ""] ("Rules.\\n")', async () => {
    const body = (mark: boolean): Anthropic.MessageCreateParamsNonStreaming => ({ model: 'gpt', max_tokens: 50, ...NO_CACHE, system: system(mark), messages: [{ role: 'user', content: 'hi' }] });
    await wire.gw.anthropic().messages.create(body(false));
    await wire.gw.anthropic().messages.create(body(true));
    const [unmarked, marked] = sentMessages();
    expect(unmarked).toEqual([
      { role: 'system', content: 'Rules.\n' },
      { role: 'user', content: 'hi' },
    ]);
    // a38df52: systemSegments leaves out the trailing segment when all of its blocks are empty, and with it the
    // "\n" the unmarked join puts before the empty block: "Rules." (the mark changed the text).
    expect(marked).toEqual(unmarked);
  });

  it('/v1/messages system [A, "" marked] (the mark on an empty last block, moved to A) -> OpenAI-compatible: the same system text as [A, ""]', async () => {
    const body = (mark: boolean): Anthropic.MessageCreateParamsNonStreaming => ({
      model: 'gpt',
      max_tokens: 50,
      ...NO_CACHE,
      system: [{ type: 'text', text: 'Rules.' }, { type: 'text', text: '', ...(mark ? { cache_control: EPH } : {}) }],
      messages: [{ role: 'user', content: 'hi' }],
    });
    await wire.gw.anthropic().messages.create(body(false));
    await wire.gw.anthropic().messages.create(body(true));
    const [unmarked, marked] = sentMessages();
    expect(unmarked![0]).toEqual({ role: 'system', content: 'Rules.\n' });
    // a38df52: "Rules." (the segment ends at the block the mark moved to; the empty block and its "\n" are dropped).
    expect(marked).toEqual(unmarked);
  });

  it('/v1/messages system [A marked, ""]: one exact-cache entry with the unmarked [A, ""] (the mark must not split the cache)', async () => {
    const body = (mark: boolean): Anthropic.MessageCreateParamsNonStreaming => ({
      model: 'gpt',
      max_tokens: 50,
      system: system(mark),
      messages: [{ role: 'user', content: 'Weather in Paris? (review: trailing empty block)' }],
    });
    const first = await wire.gw.anthropic().messages.create(body(false)).withResponse();
    expect(first.response.headers.get('x-llmrr-cache')).toBe('miss');
    const second = await wire.gw.anthropic().messages.create(body(true)).withResponse();
    // a38df52: "miss" (core key of "Rules." differs from that of "Rules.\n"), and the upstream is called twice.
    expect(second.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(wire.upstreams.openai.requests).toHaveLength(1);
  });
});
