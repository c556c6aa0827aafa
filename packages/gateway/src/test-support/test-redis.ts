/**
 * A Redis for one test file: `LLMRR_TEST_REDIS_URL` when it is set, otherwise a redis-server started here with the
 * repository's `tools/services/redis.sh` on a free loopback port in its own temporary folder (`test-service.ts`).
 * `stop()` stops what was started and removes its folder (nothing when the URL came from the environment); it never throws.
 */
import { startTestService, type TestService } from './test-service.js';

export type TestRedis = TestService;

/** `own`: always a server of its own (a test that changes its configuration, e.g. `maxmemory`, never a shared one). */
export async function startTestRedis(options: { own?: boolean } = {}): Promise<TestRedis> {
  const fromEnv = process.env.LLMRR_TEST_REDIS_URL;
  if (fromEnv && !options.own) return { url: fromEnv, stop: () => undefined };
  return startTestService('redis', 60_000);
}
