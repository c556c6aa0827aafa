/**
 * The throwaway Redis and PostgreSQL for tests, and `freePort`, for the tests of other workspace packages (the gateway
 * server's): `@llmrr/gateway/test-support`, an export with the `@llmrr/source` condition only, so it is never built
 * or published and no consumer of the package can reach it.
 */
export { freePort, startTestService, type TestService } from './test-service.js';
export { startTestRedis, type TestRedis } from './test-redis.js';
export { startTestPostgres, type TestPostgres } from './test-postgres.js';
