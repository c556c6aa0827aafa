/**
 * One local Anthropic wire server per test file and engines pointed at it (test-only: `*.test-helpers.ts` is
 * left out of the build).
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { startAnthropicWireServer, type AnthropicWireServer, type AnthropicWireServerOptions } from '../../test/anthropic-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { createAnthropicEngine } from './create-anthropic-engine.js';

/** The key the wire server accepts and the engines send. */
export const ANTHROPIC_TEST_KEY = 'sk-ant-test';

export interface AnthropicWireFixture {
  /** The server, started in `beforeAll` (reading it before then throws). */
  readonly server: AnthropicWireServer;
  /** An engine for model `claude-test-1` on the server; `extra` overrides config fields, `env` is the engine's env. */
  engine(extra?: Partial<ModelConfigInput>, env?: Record<string, string>): ReturnType<typeof createAnthropicEngine>;
  /** The JSON body of the last request the server received. */
  lastBody(): Record<string, unknown>;
}

/**
 * Registers the hooks that start the server before the file's tests and close it after; unless
 * `keepRequests`, its recorded requests are cleared after each test. `server`: more options of the server.
 */
export function useAnthropicWireServer(options: { keepRequests?: boolean; server?: Omit<AnthropicWireServerOptions, 'apiKey'> } = {}): AnthropicWireFixture {
  let started: AnthropicWireServer | undefined;
  beforeAll(async () => {
    started = await startAnthropicWireServer({ ...options.server, apiKey: ANTHROPIC_TEST_KEY });
  });
  afterAll(() => started?.close());
  if (!options.keepRequests) {
    afterEach(() => {
      if (started) started.requests.length = 0;
    });
  }
  const server = (): AnthropicWireServer => {
    if (!started) throw new Error('the Anthropic wire server is not started yet (read it inside a test or hook)');
    return started;
  };
  return {
    get server() {
      return server();
    },
    engine: (extra = {}, env = {}) =>
      createAnthropicEngine(
        ModelConfigSchema.parse({ name: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: server().url, apiKey: ANTHROPIC_TEST_KEY, ...extra }),
        defaultEngineContext({ env }),
      ),
    lastBody: () => server().requests.at(-1)!.body as Record<string, unknown>,
  };
}
