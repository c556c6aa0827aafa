import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

/** What `errorFromResponse` makes of OpenAI's 401 for a wrong server-side key (provider set, message from upstream). */
const UPSTREAM_401 = 'openai responded 401: Incorrect API key provided: sk-proj-****************************************Zx9Q. You can find your API key at https://platform.openai.com/account/api-keys.';

describe("the upstream provider's credential errors", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  // KNOWN BUG (not fixed here: http/error-body.ts belongs to the hot-path work). `toPublicError` passes an
  // upstream `authentication` / `permission_denied` LLMError through as it is: the client gets a 401 that
  // blames its own key, and the provider's message, which quotes part of the gateway's upstream API key.
  // Flip to `it` when fixed.
  it.fails('are a 502 that neither blames the client key nor quotes the upstream message', async () => {
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'authentication', message: UPSTREAM_401, times: 10 }] })] });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    const text = await res.text();
    expect(text).not.toContain('Zx9Q');
    expect(text).not.toContain('sk-proj');
    expect(res.status).toBe(502);
  });
});
