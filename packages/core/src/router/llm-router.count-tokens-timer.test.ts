/**
 * A call's `timeouts` past the longest timer delay (2^31 - 1 ms) bound countTokens as they bound generate: the
 * bound waits the longest a timer takes (`timerDelay` in `withTimeout`), never times out at once (Node fires a delay
 * of 2^31..2^32-1 ms after 1 ms) nor throws a RangeError (a longer one).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import '../engines/index.js';
import type { GenerateRequest } from '../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { LLMRouter } from './llm-router.js';

let server: AnthropicWireServer;
beforeAll(async () => {
  // The count takes 20 ms upstream (a real provider takes longer), so a timer firing after 1 ms always comes first.
  server = await startAnthropicWireServer({
    apiKey: 'sk-ant-test',
    countTokens: () => {
      const until = Date.now() + 20;
      while (Date.now() < until);
      return 4242;
    },
  });
});
afterAll(() => server.close());

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

const claude: ModelConfigInput = { name: 'claude', engine: 'anthropic', model: 'claude-test-1', apiKey: 'sk-ant-test', options: { exactTokenCount: true } };
const hello: GenerateRequest = { messages: [{ role: 'user', content: 'hello there, how are you' }] };

describe('countTokens under a call timeout past 2^31 - 1 ms', () => {
  for (const totalMs of [3_000_000_000, 5_000_000_000]) {
    it(`timeouts.totalMs ${totalMs}: the count is answered, as a generate with the same timeouts is`, async () => {
      const r = new LLMRouter({ models: [{ ...claude, baseURL: server.url }] });
      routers.push(r);
      const generated = await r.generate({ ...hello, model: 'claude' } as never, { timeouts: { totalMs } } as never).then(
        () => 'answered',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
      const counted = await r.countTokens(hello, { model: 'claude', timeouts: { totalMs } }).then(
        (c) => `counted ${c.tokens}`,
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
      expect({ generated, counted }).toEqual({ generated: 'answered', counted: 'counted 4242' });
    });
  }

});
