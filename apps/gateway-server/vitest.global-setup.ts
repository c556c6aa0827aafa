/**
 * Starts a throwaway Redis and PostgreSQL (tools/services/*.sh) for the shared-mode test, exactly as
 * @llmrr/core's store tests do: the same setup, which hands the URLs over as LLMRR_TEST_REDIS_URL and
 * LLMRR_TEST_POSTGRES_URL (env and vitest `provide`), skips servers that are not installed, and only
 * starts them when the run may include a test whose path matches `shared`.
 */
export { default } from '../../packages/core/vitest.global-setup.ts';
