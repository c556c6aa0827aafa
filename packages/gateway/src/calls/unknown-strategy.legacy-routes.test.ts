/** The original project's /api/chat and /api/quick take the strategy in their own `strategy` field: an unknown one is a 400 naming that field, before admission. */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

// The commit: "an unknown x-llmrr-strategy / llmrr.strategy is a 400 before admission naming the field".
// /api/quick and /api/chat take the strategy in their own body field `strategy` (legacy-api.ts), and never read the
// x-llmrr-strategy header. Before the commit core refused it naming `strategy`.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('unknown strategy on the legacy endpoints', () => {
  it('/api/chat with body strategy "nope" names the body field `strategy`, not a header the client never sent', async () => {
    h = await createHarness({ models: [mockModel('mock')] });
    const res = await post(h.gateway, '/api/chat', { messages: [{ role: 'user', content: 'hi' }], strategy: 'nope' });
    const body = (await res.json()) as { error: { code: string; param: string } };
    expect({ status: res.status, code: body.error.code, param: body.error.param }).toEqual({ status: 400, code: 'invalid_request', param: 'strategy' });
  });

  it('/api/quick with body strategy "nope" names the body field `strategy`', async () => {
    h = await createHarness({ models: [mockModel('mock')] });
    const res = await post(h.gateway, '/api/quick', { prompt: 'hi', strategy: 'nope' });
    const body = (await res.json()) as { error: { code: string; param: string } };
    expect({ status: res.status, param: body.error.param }).toEqual({ status: 400, param: 'strategy' });
  });
});
