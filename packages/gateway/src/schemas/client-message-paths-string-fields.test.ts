import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// From the review of 027204f: a client message that IS a string field (`/v1/completions` prompt, a string `/v1/responses`
// input) has no `content` of its own: core's `messages.0.content` is that field itself. OpenAI names a message's
// content in its 400s (`"param": "messages[0].content"`, e.g. code string_above_max_length: "Invalid
// 'messages[0].content': string too long."), which the OpenAI-compatible engine passes through.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt', { capabilities: ['chat', 'streaming', 'tools', 'completion'] })]);

const tooLong = {
  error: {
    status: 400,
    message: "Invalid 'messages[0].content': string too long. Expected a string with maximum length 10485760, but got a string with length 10485761 instead.",
    type: 'invalid_request_error',
    param: 'messages[0].content',
    code: 'string_above_max_length',
  },
};

async function errorOf(path: string, body: unknown): Promise<{ status: number; param: unknown; message: string }> {
  const res = await fetch(`${wire.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${wire.gw.secret}` }, body: JSON.stringify(body) });
  const json = (await res.json()) as { error: { param: unknown; message: string } };
  return { status: res.status, param: json.error.param, message: json.error.message };
}

describe('a string prompt or input named where core names its message content', () => {
  it('/v1/completions with a string prompt: messages[0].content is prompt (the body has no prompt.content)', async () => {
    wire.upstreams.openai.setScript(tooLong);
    const e = await errorOf('/v1/completions', { model: 'gpt', prompt: 'Say hi' });
    expect(e.status).toBe(400);
    expect(e.param).toBe('prompt');
    expect(e.message).not.toContain('prompt.content');
  });

  it('/v1/completions with a one-element array prompt: messages[0].content is prompt[0]', async () => {
    wire.upstreams.openai.setScript(tooLong);
    const e = await errorOf('/v1/completions', { model: 'gpt', prompt: ['Say hi'] });
    expect(e.status).toBe(400);
    expect(e.param).toBe('prompt[0]');
  });

  it('/v1/responses with a string input: messages[0].content is input (the body has no input.content)', async () => {
    wire.upstreams.openai.setScript(tooLong);
    const e = await errorOf('/v1/responses', { model: 'gpt', input: 'Say hi' });
    expect(e.status).toBe(400);
    expect(e.param).toBe('input');
  });
});
