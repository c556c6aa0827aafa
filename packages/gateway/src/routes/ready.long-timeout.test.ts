/**
 * `readyTimeoutMs` past the longest timer Node arms (2^31 - 1 ms, about 24.8 days; a longer one fires after 1 ms)
 * waits that long: a "never time out" setting keeps `/ready` answering from the ping, not a 503 for every probe
 * whose ping takes more than a millisecond.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, get, mockModel, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('GET /ready with a readyTimeoutMs past the longest timer', () => {
  for (const [label, readyTimeoutMs] of [
    ['30 days', 30 * 86_400_000],
    ['2^31 ms', 2 ** 31],
    ['Number.MAX_SAFE_INTEGER ms', Number.MAX_SAFE_INTEGER],
  ] as const) {
    it(`a ping answering in 30 ms is ready under a readyTimeoutMs of ${label}`, async () => {
      h = await createHarness({ models: [mockModel('chat')], stores: 'memory', gateway: { readyTimeoutMs } });
      h.stores!.ping = () => new Promise<void>((r) => setTimeout(r, 30));
      const res = await get(h.gateway, '/ready');
      expect(await res.json()).toEqual({ status: 'ready' });
      expect(res.status).toBe(200);
    });
  }
});
