import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// /v1/messages: an answer with no text, no thinking and no tool call (Gemini's prompt blocked, promptFeedback.blockReason;
// an Anthropic upstream's own `content: []`) is `content: []` as Anthropic answers it, the same from `messages.create()`
// and `messages.stream().finalMessage()` (the streamed answer opens no block): not an empty text block, which Anthropic
// refuses when a client sends the turn back ("messages: text content blocks must be non-empty").

const wire = overWireUpstreams((x) => [wireDeployment(x, 'gem'), wireDeployment(x, 'claude')]);

const ask = (model: string) => ({ model, max_tokens: 50, messages: [{ role: 'user' as const, content: 'Hi' }] });

describe('/v1/messages: an empty answer has the same content JSON and streamed', () => {
  it('Gemini prompt blocked: stop_reason refusal, the same content both ways', async () => {
    wire.upstreams.gemini.enqueue({ promptBlockReason: 'SAFETY' }, { promptBlockReason: 'SAFETY' });
    const json = await wire.gw.anthropic().messages.create(ask('gem'));
    const streamed = await wire.gw.anthropic().messages.stream(ask('gem')).finalMessage();
    expect(json.stop_reason).toBe('refusal');
    expect(streamed.stop_reason).toBe('refusal');
    expect(json.content).toEqual(streamed.content);
  });

  it('an Anthropic upstream answering content []: passed on as [] both ways', async () => {
    wire.upstreams.anthropic.enqueue({ content: [], usage: { input_tokens: 5, output_tokens: 0 } }, { content: [], usage: { input_tokens: 5, output_tokens: 0 } });
    const json = await wire.gw.anthropic().messages.create(ask('claude'));
    const streamed = await wire.gw.anthropic().messages.stream(ask('claude')).finalMessage();
    expect(streamed.content).toEqual([]);
    expect(json.content).toEqual([]);
  });

  it('given back in the history as the SDK returned it (content []): the next turn and its token count are not a 5xx', async () => {
    wire.upstreams.gemini.enqueue({ promptBlockReason: 'SAFETY' });
    const first = await wire.gw.anthropic().messages.create(ask('gem'));
    expect(first.content).toEqual([]);
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: first.content }, { role: 'user', content: 'try again' }];
    const status = (p: Promise<unknown>) => p.then(() => 200, (e: { status?: number }) => e.status ?? 0);
    expect(await status(wire.gw.anthropic().messages.create({ model: 'gem', max_tokens: 50, messages }))).toBeLessThan(500);
    expect(await status(wire.gw.anthropic().messages.countTokens({ model: 'gem', messages }))).toBeLessThan(500);
  });
});
