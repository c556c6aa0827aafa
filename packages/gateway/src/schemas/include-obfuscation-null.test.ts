import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// `stream_options.include_obfuscation: null` asks for nothing: taken as absent on chat and completions (a 200 with no
// warning), as a null `stream_options` is.

let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('m', {}, { capabilities: ['chat', 'streaming', 'completion'] })] });
});
afterAll(() => gw?.close());

async function post(path: string, body: unknown): Promise<{ status: number; warnings: string | null }> {
  const r = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.secret}` },
    body: JSON.stringify(body),
  });
  await r.text();
  return { status: r.status, warnings: r.headers.get('x-llmrr-warnings') };
}

describe('stream_options.include_obfuscation null', () => {
  it('chat completions and completions take it as absent', async () => {
    const chat = await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true, include_obfuscation: null } });
    expect(chat).toEqual({ status: 200, warnings: null });
    const completions = await post('/v1/completions', { model: 'm', prompt: 'hi', stream: true, stream_options: { include_obfuscation: null } });
    expect(completions).toEqual({ status: 200, warnings: null });
  });
});
