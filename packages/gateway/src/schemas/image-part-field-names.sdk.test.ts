/**
 * An engine's 400 about an image part (an image URL it cannot send: not http(s) nor a data: URL; Gemini's refusal to
 * download from a private host) names the client's field of the image, not core's `url`: `input.N.content.K.image_url`
 * on /v1/responses (`input.N.output.K.image_url` in a function output), `messages.N.content.K.source.url` on
 * /v1/messages (under a tool_result's `content.K` too), `messages.N.content.K.image_url.url` on chat completions.
 * Official openai / Anthropic clients, Anthropic- and Gemini-wire deployments that take images.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

const VISION = (): Partial<ModelInput> => ({ capabilities: ['chat', 'streaming', 'tools', 'vision'] });

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude', VISION()), wireDeployment(u, 'gem', VISION())]);

/** The 400 a client call threw: its `param` and message. */
async function refused(call: () => Promise<unknown>): Promise<{ param: unknown; message: string }> {
  try {
    await call();
  } catch (e) {
    if (e instanceof OpenAI.BadRequestError) return { param: e.param, message: e.message };
    if (e instanceof Anthropic.BadRequestError) {
      const error = (e.error as { error?: { param?: unknown; message?: string } }).error;
      return { param: error?.param, message: error?.message ?? '' };
    }
    throw e;
  }
  throw new Error('expected a 400');
}

const FTP = 'ftp://example.com/cat.png';

describe('an image URL the engine refuses names the client field of the image', () => {
  for (const model of ['claude', 'gem']) {
    it(`${model}: /v1/responses, an input_image's image_url (in a message and in a function output)`, async () => {
      const inMessage = await refused(() =>
        wire.gw.openai().responses.create({ model, instructions: 'Be brief.', input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is it?' }, { type: 'input_image', image_url: FTP, detail: 'auto' }] }] }),
      );
      expect(inMessage.param).toBe('input.0.content.1.image_url');
      expect(inMessage.message).toContain('input.0.content.1.image_url');
      expect(inMessage.message).not.toMatch(/\.url\b/);
      if (model !== 'claude') return;
      // Images in a function output reach Anthropic deployments (as the tool_result's blocks).
      const inOutput = await refused(() =>
        wire.gw.openai().responses.create({
          model,
          tools: [{ type: 'function', name: 'shot', parameters: { type: 'object', properties: {} }, strict: false }],
          input: [
            { role: 'user', content: 'Take a screenshot.' },
            { type: 'function_call', call_id: 'c1', name: 'shot', arguments: '{}' },
            { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_image', image_url: FTP, detail: 'auto' }] },
          ],
        }),
      );
      expect(inOutput.param).toBe('input.2.output.0.image_url');
    });

    it(`${model}: /v1/messages, an image block's source.url`, async () => {
      const r = await refused(() => wire.gw.anthropic().messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: FTP } }] }] }));
      expect(r.param).toBe('messages.0.content.0.source.url');
      expect(r.message).toContain('messages.0.content.0.source.url');
    });

    it(`${model}: /v1/chat/completions, an image_url part's image_url.url`, async () => {
      const r = await refused(() => wire.gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: FTP } }] }] }));
      expect(r.param).toBe('messages.0.content.0.image_url.url');
    });
  }

  it("claude: /v1/messages, an image block inside a tool_result's content", async () => {
    const r = await refused(() =>
      wire.gw.anthropic().messages.create({
        model: 'claude',
        max_tokens: 10,
        tools: [{ name: 'shot', input_schema: { type: 'object' } }],
        messages: [
          { role: 'user', content: 'Take a screenshot.' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'shot', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'here' }, { type: 'image', source: { type: 'url', url: FTP } }] }] },
        ],
      }),
    );
    expect(r.param).toBe('messages.2.content.0.content.1.source.url');
  });

  it("claude: /v1/messages, an image block after a tool_result in the same user turn is named by its own block index", async () => {
    // Core makes the tool_result a message of its own and the turn's other blocks one user message, whose content.0 is
    // the client's content.1 (Claude Code sends tool results and a screenshot in one turn).
    const turn = (...rest: Anthropic.ContentBlockParam[]): Anthropic.MessageParam[] => [
      { role: 'user', content: 'Take a screenshot.' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'shot', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done' }, ...rest] },
    ];
    const image: Anthropic.ImageBlockParam = { type: 'image', source: { type: 'url', url: FTP } };
    const tools: Anthropic.Tool[] = [{ name: 'shot', input_schema: { type: 'object' } }];
    const first = await refused(() => wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 10, tools, messages: turn(image) }));
    expect(first.param).toBe('messages.2.content.1.source.url');
    expect(first.message).toContain('messages.2.content.1.source.url');
    const afterText = await refused(() => wire.gw.anthropic().messages.create({ model: 'claude', max_tokens: 10, tools, messages: turn({ type: 'text', text: 'Here it is:' }, image) }));
    expect(afterText.param).toBe('messages.2.content.2.source.url');
  });

  it("gem: Gemini's refusal to download an image from a private host names the client's field too", async () => {
    const r = await refused(() => wire.gw.openai().responses.create({ model: 'gem', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'http://127.0.0.1:9/cat.png', detail: 'auto' }] }] }));
    expect(r.param).toBe('input.0.content.0.image_url');
    expect(r.message).toContain('input.0.content.0.image_url:');
  });
});
