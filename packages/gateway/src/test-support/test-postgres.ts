/**
 * A PostgreSQL for one test file: `LLMRR_TEST_POSTGRES_URL` when it is set, otherwise a server started here with the
 * repository's `tools/services/postgres.sh` on a free loopback port in its own temporary folder (`test-service.ts`).
 * `stop()` stops what was started and removes its folder (nothing when the URL came from the environment); it never
 * throws. Give each user its own `postgresSchema` (a shared server holds other tests' tables).
 */
import { startTestService, type TestService } from './test-service.js';

export type TestPostgres = TestService;

export async function startTestPostgres(): Promise<TestPostgres> {
  const fromEnv = process.env.LLMRR_TEST_POSTGRES_URL;
  if (fromEnv) return { url: fromEnv, stop: () => undefined };
  return startTestService('postgres', 90_000);
}
