import type Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireServer, GeminiWireServer, OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// A cache mark is a billing hint: it must change neither what the gateway asks of the router nor what a
// provider that ignores marks receives (anthropic/to-generate-request.ts, schemas/marked-system-message.ts):
// - core's exact-cache key ignores breakpoints (core cache-key.ts: "so that breakpoints never split the cache"),
//   so a marked one-block question must convert as the unmarked one does (a string, the mark on the message);
// - a user message's text blocks are joined into one string (with "\n", as local engines join text parts) with or
//   without a mark on the last block, so a message Claude Code marked on one turn and not on the next reaches
//   Anthropic in one shape: the prefix cached at its end is the next turn's prefix; an OpenAI-compatible deployment
//   gets that string too (DeepSeek's API takes only string content), also as another deployment's fallback;
// - system blocks are joined as without marks into one system message, wherever the marks are (the blocks with
//   their marks go along as its `parts`, for the Anthropic engine only), so OpenAI-compatible deployments get one
//   system message and Gemini the same systemInstruction (marks-keep-system-text.sdk.test.ts: Claude Code's
//   real prompt, with an earlier block marked too).
// (First written as the review tests of c14333b, which found each of these broken.)

let claudeUp: AnthropicWireServer;
let openaiUp: OpenAIWireServer;
let geminiUp: GeminiWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp, openai: openaiUp, gemini: geminiUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gpt'), wireDeployment(u, 'gem')], { cache: { exact: { enabled: true } } }));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp, openaiUp, geminiUp));

const EPH = { type: 'ephemeral' } as const;

async function created(body: Anthropic.MessageCreateParamsNonStreaming): Promise<string | null> {
  const { response } = await gw.anthropic().messages.create(body).withResponse();
  return response.headers.get('x-llmrr-cache');
}

describe('a cache mark must not split the exact cache', () => {
  it('/v1/messages: the same one-block question with and without a mark on its text block is one exact-cache entry', async () => {
    claudeUp.enqueue({ content: 'Sunny.' }, { content: 'Sunny again.' });
    const question = (mark: boolean): Anthropic.MessageCreateParamsNonStreaming => ({
      model: 'claude',
      max_tokens: 50,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris? (review exact-cache)', ...(mark ? { cache_control: EPH } : {}) }] }],
    });
    expect(await created(question(false))).toBe('miss');
    // Core strips cacheControl from the key; both convert to the string "Weather in Paris?..." (the mark on the
    // message), so the second call is a hit.
    expect(await created(question(true))).toBe('hit-exact');
    expect(claudeUp.requests).toHaveLength(1);
  });
});

/** A block list without its cache marks (what the prefix is made of). */
const unmarkedBlocks = (content: unknown) => (Array.isArray(content) ? content.map(({ cache_control: _, ...b }: Record<string, unknown>) => b) : [{ type: 'text', text: content }]);

describe('the prompt prefix Anthropic cached must stay byte-stable on the next turn', () => {
  it('a multi-block user message sent with its mark keeps its blocks once it is history (Claude Code moves its marks to the newest messages)', async () => {
    claudeUp.enqueue({ content: 'Checking.' }, { content: 'Sunny.' });
    // Claude Code's prompt turn: system-reminder text blocks, then the prompt; the newest message is marked.
    const reminder = { type: 'text' as const, text: '<system-reminder>Today is Thursday.</system-reminder>' };
    const turn1: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'claude',
      max_tokens: 100,
      ...({ llmrr: { cache: false } } as object),
      messages: [{ role: 'user', content: [reminder, { type: 'text', text: 'Weather in Paris?', cache_control: EPH }] }],
    };
    await gw.anthropic().messages.create(turn1);
    // Next turn: the same first message, now unmarked (the marks moved to the last messages).
    const turn2: Anthropic.MessageCreateParamsNonStreaming = {
      ...turn1,
      messages: [
        { role: 'user', content: [reminder, { type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.', cache_control: EPH }] },
        { role: 'user', content: [{ type: 'text', text: 'And in Rome?', cache_control: EPH }] },
      ],
    };
    await gw.anthropic().messages.create(turn2);
    expect(claudeUp.requests).toHaveLength(2);
    const firstMessage = (i: number) => unmarkedBlocks((claudeUp.requests[i]!.body as { messages: Array<{ content: unknown }> }).messages[0]!.content);
    // Both turns send the message as one block "<system-reminder>...</system-reminder>\nWeather in Paris?" (joined
    // with "\n", marked or not), so the prefix cached on turn 1 at that message's end is read on turn 2. (Keeping the
    // marked blocks apart made turn 2 pay cache writes again from that message on.)
    expect(firstMessage(0)).toEqual([{ type: 'text', text: '<system-reminder>Today is Thursday.</system-reminder>\nWeather in Paris?' }]);
    expect(firstMessage(1)).toEqual(firstMessage(0));
  });
});

/** Claude Code's shape: two system blocks, the last marked; the question as a marked text block. */
const claudeCodeBody = (model: string, mark: boolean): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 100,
  // Exact cache off for these calls (llmrr.cache: false), so both reach the upstream.
  ...({ llmrr: { cache: false } } as object),
  system: [
    { type: 'text', text: 'You are a weather assistant.' },
    { type: 'text', text: 'A long style guide that is the same on every call.', ...(mark ? { cache_control: EPH } : {}) },
  ],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?', ...(mark ? { cache_control: EPH } : {}) }] }],
});

describe('marks change nothing for engines that ignore them (the common shapes)', () => {
  it('an OpenAI-compatible deployment gets the same messages with and without marks (one system message, string content)', async () => {
    await gw.anthropic().messages.create(claudeCodeBody('gpt', false));
    await gw.anthropic().messages.create(claudeCodeBody('gpt', true));
    expect(openaiUp.requests).toHaveLength(2);
    const [unmarked, marked] = openaiUp.requests.map((r) => (r.body as { messages: unknown[] }).messages);
    expect(unmarked).toEqual([
      { role: 'system', content: 'You are a weather assistant.\nA long style guide that is the same on every call.' },
      { role: 'user', content: 'Weather in Paris?' },
    ]);
    // Not two system messages (which chat templates such as Mistral's refuse: "After the optional system
    // message, conversation roles must alternate"), nor the question as a content array.
    expect(marked).toEqual(unmarked);
  });

  it('a Gemini deployment gets the same systemInstruction with and without marks', async () => {
    await gw.anthropic().messages.create(claudeCodeBody('gem', false));
    await gw.anthropic().messages.create(claudeCodeBody('gem', true));
    const sent = geminiUp.requests.filter((r) => r.rpc === 'generateContent').map((r) => (r.body as { systemInstruction?: unknown }).systemInstruction);
    expect(sent).toHaveLength(2);
    // "...assistant.\nA long..." both times (not the Gemini engine's "\n\n" join of two system messages).
    expect(sent[1]).toEqual(sent[0]);
  });
});

describe('a user turn of several text blocks on another provider, also as a fallback', () => {
  let gw2: SdkGateway;
  let claude2: AnthropicWireServer;
  let openai2: OpenAIWireServer;
  beforeAll(async () => {
    ({ gw: gw2, upstreams: { anthropic: claude2, openai: openai2 } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gpt')], { routing: { fallbacks: { claude: ['gpt'] } } }));
  });
  afterAll(() => gw2?.close());

  const turn = (marks: [boolean, boolean]): Anthropic.MessageCreateParamsNonStreaming => ({
    model: 'claude',
    max_tokens: 100,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>Today is Thursday.</system-reminder>', ...(marks[0] ? { cache_control: EPH } : {}) },
          { type: 'text', text: 'Weather in Paris?', ...(marks[1] ? { cache_control: EPH } : {}) },
        ],
      },
    ],
  });

  it('claude fails (500) and gpt answers: gpt gets the blocks joined with "\\n" as one string, without a mark or with one on the last block', async () => {
    for (const marks of [[false, false], [false, true]] as Array<[boolean, boolean]>) {
      claude2.enqueue({ error: { status: 500, message: 'down' } });
      const answer = await gw2.anthropic().messages.create(turn(marks));
      expect(answer.content[0]).toMatchObject({ type: 'text' });
    }
    const sent = openai2.requests.map((r) => (r.body as { messages: unknown[] }).messages);
    expect(sent).toEqual([
      [{ role: 'user', content: '<system-reminder>Today is Thursday.</system-reminder>\nWeather in Paris?' }],
      [{ role: 'user', content: '<system-reminder>Today is Thursday.</system-reminder>\nWeather in Paris?' }],
    ]);
    // The Anthropic deployment was asked the same text, in one block (the mark on the last block is that block's).
    expect(claude2.requests.map((r) => unmarkedBlocks((r.body as { messages: Array<{ content: unknown }> }).messages[0]!.content))).toEqual([
      [{ type: 'text', text: '<system-reminder>Today is Thursday.</system-reminder>\nWeather in Paris?' }],
      [{ type: 'text', text: '<system-reminder>Today is Thursday.</system-reminder>\nWeather in Paris?' }],
    ]);
  });

  it('a mark on the earlier block keeps the blocks apart: Anthropic gets them as the client sent them, the fallback the same texts as a content list', async () => {
    claude2.enqueue({ error: { status: 500, message: 'down' } });
    await gw2.anthropic().messages.create(turn([true, false]));
    expect((claude2.requests.at(-1)!.body as { messages: Array<{ content: unknown }> }).messages[0]!.content).toEqual([
      { type: 'text', text: '<system-reminder>Today is Thursday.</system-reminder>', cache_control: EPH },
      { type: 'text', text: 'Weather in Paris?' },
    ]);
    // The one case where a mark changes the shape another provider gets (a list, not a string; see
    // to-generate-request.ts userMessage): the texts are the same, and local engines join them with "\n" as the string.
    expect((openai2.requests.at(-1)!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: '<system-reminder>Today is Thursday.</system-reminder>' }, { type: 'text', text: 'Weather in Paris?' }] },
    ]);
  });
});
