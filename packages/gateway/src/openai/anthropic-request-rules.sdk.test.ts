import type { AnthropicWireRequest } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';

// The official openai client on /v1/chat/completions, the deployment an Anthropic upstream. Requests that OpenAI
// takes and that the real Anthropic Messages API refuses with a 400 unless the engine fits them
// (fit-anthropic-sampling.ts, convert-to-anthropic-request.ts), each change said in x-llmrr-warnings:
// - `stop: ["\n"]`: "stop_sequences: each stop sequence must contain non-whitespace" (BerriAI/litellm#3286, which LiteLLM
//   fixed by dropping whitespace-only stop sequences, #3436 / #7484; continuedev/continue#1660): not sent;
// - an assistant turn whose text is only white space (a model's "\n\n" before its tool calls, given back):
//   "messages: text content blocks must contain non-whitespace text" (anthropics/claude-code#23369): its text not sent;
// - a last assistant message (a prefill) ending in white space: "messages: final assistant content cannot end with
//   trailing whitespace" (tailcallhq/forgecode#1872, langchain-ai/langchain#35073): sent without it;
// - `temperature` above 1 (OpenAI's range is 0..2, Anthropic's 0..1): "temperature: range: 0..1" (vercel/ai#10308
//   clamps it with a warning, theopenco/llmgateway#3268 clamps it to the provider's ceiling): sent as 1 to a Claude
//   model; an Anthropic-wire API of another model takes OpenAI's range (DeepSeek's https://api.deepseek.com/anthropic:
//   "temperature: Fully Supported (range [0.0 ~ 2.0])", api-docs.deepseek.com/guides/anthropic_api) and gets it as asked;
// - `temperature` and `top_p` together (chat UIs such as LibreChat, ChatterUI and NextChat send both) to Claude Opus
//   4.1 and later, Sonnet 4.5 and later, Haiku 4.5: "`temperature` and `top_p` cannot both be specified for this
//   model. Please use only one." (Vali-98/ChatterUI#564, langfuse/langfuse#9882, fwdai/reticle#7): temperature only.
// The local Anthropic-wire peer below applies those rules of the real API (its own checks do not have them).

function realApiProblem(body: Record<string, unknown>): string | undefined {
  if (typeof body.temperature === 'number' && body.temperature > (String(body.model).startsWith('claude') ? 1 : 2)) return 'temperature: range: 0..1';
  if (body.model === 'claude-sonnet-4-5' && body.temperature !== undefined && body.top_p !== undefined) {
    return '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
  }
  const stops = body.stop_sequences;
  if (Array.isArray(stops) && stops.some((s) => typeof s === 'string' && s.trim() === '')) return 'stop_sequences: each stop sequence must contain non-whitespace';
  const messages = (body.messages ?? []) as Array<{ role: string; content: unknown }>;
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content as Array<{ type: string; text?: string }>) {
      if (b.type === 'text' && typeof b.text === 'string' && b.text.trim() === '') return 'messages: text content blocks must contain non-whitespace text';
    }
  }
  const last = messages.at(-1);
  if (last?.role === 'assistant') {
    const blocks = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : (last.content as Array<{ type: string; text?: string }>);
    const end = blocks.at(-1);
    if (end?.type === 'text' && /\s$/.test(end.text ?? '')) return 'messages: final assistant content cannot end with trailing whitespace';
  }
  return undefined;
}

const served = servedOverWireUpstreams(
  (u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'claude', { name: 'sonnet', model: 'claude-sonnet-4-5' }), wireDeployment(u, 'claude', { name: 'deepseek', model: 'deepseek-v4-pro' })],
  {
    anthropic: {
      handler: (r: AnthropicWireRequest) => {
        const problem = realApiProblem(r.body as Record<string, unknown>);
        return problem ? { error: { status: 400, message: problem } } : { content: 'ok' };
      },
    },
  },
);
let gw: SdkGateway | undefined;
const client = async (): Promise<OpenAI> => {
  gw ??= (await served).gw;
  return gw.openai();
};
const sent = async (): Promise<Record<string, unknown>> => (await served).upstreams.anthropic.requests.at(-1)!.body as Record<string, unknown>;
afterAll(async () => (await served).gw.close());
afterEach(async () => clearRequests((await served).upstreams.anthropic));

const TOOLS: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('openai client -> Anthropic deployment: requests OpenAI takes are fitted to Anthropic\'s rules', () => {
  it('stop: ["\\n"] (a whitespace-only stop sequence) is not sent, with a warning; other sequences are', async () => {
    const { data: res, response } = await (await client()).chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'One line please' }], stop: ['\n'] }).withResponse();
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(await sent()).not.toHaveProperty('stop_sequences');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'stop']]);
    const mixed = await (await client()).chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }], stop: ['\n', 'END'] }).withResponse();
    expect(await sent()).toMatchObject({ stop_sequences: ['END'] });
    expect(readWarnings(mixed.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'stop']]);
  });

  it('an assistant tool turn whose content is "\\n\\n" given back is sent without that text', async () => {
    const res = await (await client()).chat.completions.create({
      model: 'claude',
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: '\n\n', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
      ],
    });
    expect(res.choices[0]!.message.content).toBe('ok');
    const turn = ((await sent()).messages as Array<{ role: string; content: Array<{ type: string }> }>)[1]!;
    expect(turn.content.map((b) => b.type)).toEqual(['tool_use']);
  });

  it('temperature 1.5 (inside OpenAI\'s 0..2) is sent as 1, with a warning', async () => {
    const { data: res, response } = await (await client()).chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Be creative' }], temperature: 1.5 }).withResponse();
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(await sent()).toMatchObject({ temperature: 1 });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'temperature']]);
  });

  it('temperature 1.5 to an Anthropic-wire deployment of another model (DeepSeek, 0..2) is sent as asked, no warning', async () => {
    const { data: res, response } = await (await client()).chat.completions.create({ model: 'deepseek', messages: [{ role: 'user', content: 'Be creative' }], temperature: 1.5 }).withResponse();
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(await sent()).toMatchObject({ model: 'deepseek-v4-pro', temperature: 1.5 });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a last assistant message (prefill) ending in a space is sent without it, with a warning', async () => {
    const { data: res, response } = await (await client())
      .chat.completions.create({
        model: 'claude',
        messages: [
          { role: 'user', content: 'Name a color.' },
          { role: 'assistant', content: 'The color is ' },
        ],
      })
      .withResponse();
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(((await sent()).messages as Array<{ content: unknown }>)[1]!.content).toEqual([{ type: 'text', text: 'The color is' }]);
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'messages.1.content']]);
  });

  it('temperature and top_p to Claude Sonnet 4.5: temperature only, top_p warned; an older model gets both', async () => {
    const { data: res, response } = await (await client()).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.7, top_p: 0.9 }).withResponse();
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(await sent()).toMatchObject({ temperature: 0.7 });
    expect(await sent()).not.toHaveProperty('top_p');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'top_p']]);
    const older = await (await client()).chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.7, top_p: 0.9 }).withResponse();
    expect(await sent()).toMatchObject({ temperature: 0.7, top_p: 0.9 });
    expect(older.response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
