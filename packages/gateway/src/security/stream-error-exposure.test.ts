import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, sseJson, type Harness } from '../test-support/harness.js';

describe('errors inside a stream are as public as errors outside one', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("an internal error after the first byte ends the stream with an error frame that hides the internal message", async () => {
    const secret = 'at /srv/app/node_modules/pg/lib/client.js password=hunter2';
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'internal', message: secret, afterChunks: 1 }] })] });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    const last = sseJson(text).at(-1) as { error?: { code: string; message: string } };
    expect(last.error?.code).toBe('internal');

    // The same failure before any byte: the JSON error hides it too.
    await h.close();
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'internal', message: secret }] })] });
    const json = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'x' }] });
    expect(json.status).toBe(500);
    expect(await json.text()).not.toContain('hunter2');
  });
});
