/**
 * One local OpenAI wire server per test file and OpenAI-compatible engines pointed at it (test-only:
 * `*.test-helpers.ts` is left out of the build).
 */
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { startOpenAIWireServer, type OpenAIWireServer, type OpenAIWireServerOptions } from '../../test/openai-wire-server.js';
import { useStartedServer } from '../../test/started-server.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

export interface OpenAIWireFixture {
  /** The server, started in `beforeAll` (reading it before then throws). */
  readonly server: OpenAIWireServer;
  /** An engine for model `gpt-4o` on the server; `config` overrides config fields. */
  engine(config?: Partial<ModelConfigInput>): OpenAICompatibleEngine;
  /** The JSON body of the last request the server received. */
  lastBody(): Record<string, unknown>;
}

/** Registers the hooks that start the server (with `options`) before the file's tests and close it after them. */
export function useOpenAIWireServer(options: OpenAIWireServerOptions = {}): OpenAIWireFixture {
  const server = useStartedServer('OpenAI wire server', () => startOpenAIWireServer(options));
  return {
    get server() {
      return server();
    },
    engine: (config = {}) =>
      new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', model: 'gpt-4o', baseURL: server().baseURL, ...config }), defaultEngineContext({ env: {} })),
    lastBody: () => server().requests.at(-1)!.body as Record<string, unknown>,
  };
}
