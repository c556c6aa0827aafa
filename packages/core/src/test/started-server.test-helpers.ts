/**
 * One server per test file, started before its tests and closed after them (test-only: `*.test-helpers.ts` is left
 * out of the build).
 */
import { afterAll, beforeAll } from 'vitest';

/**
 * Registers the hooks that start the server (`start`) before the file's tests and close it after them; returns the
 * reader of the started server, which throws when read before then (`name` says which server).
 */
export function useStartedServer<S extends { close(): Promise<void> }>(name: string, start: () => Promise<S>): () => S {
  let started: S | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(() => started?.close());
  return () => {
    if (!started) throw new Error(`the ${name} is not started yet (read it inside a test or hook)`);
    return started;
  };
}
