import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// Review of cdaab3f: chat completions now read `stream_options.include_obfuscation` (a warning for `true`), but
// neither the fast check (check-openai-chat.ts:37) nor the schema (openai-chat.ts:130, a looseObject of
// `include_usage` alone) checks its type, so `"true"` or `1`, which clearly ask for obfuscation, are taken and
// dropped with no warning. openai 6.49 types it `include_obfuscation?: boolean`; /v1/responses refuses a non-boolean
// with a 400 naming `stream_options.include_obfuscation` (check-openai-responses.ts:40, openai-responses.ts:126).

let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('m')] });
});
afterAll(() => gw?.close());

async function post(body: unknown): Promise<{ status: number; param: unknown; warnings: string | null }> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.secret}` },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let param: unknown;
  if (r.status !== 200) param = (JSON.parse(text) as { error?: { param?: unknown } }).error?.param;
  return { status: r.status, param, warnings: r.headers.get('x-llmrr-warnings') };
}

describe('/v1/chat/completions stream_options.include_obfuscation', () => {
  it('a value that is not a boolean is a 400 naming stream_options.include_obfuscation, as on /v1/responses', async () => {
    for (const value of ['true', 1]) {
      const r = await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_obfuscation: value } });
      expect(r).toMatchObject({ status: 400, param: 'stream_options.include_obfuscation' });
    }
  });
});
