/**
 * One local Gemini wire server per test file and engines pointed at it (test-only: `*.test-helpers.ts` is left out
 * of the build).
 */
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { startGeminiWireServer, type GeminiWireServer, type GeminiWireServerOptions } from '../../test/gemini-wire-server.js';
import { useStartedServer } from '../../test/started-server.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

/** The key the wire server accepts and the engines send. */
export const GEMINI_TEST_KEY = 'gm-test';

export interface GeminiWireFixture {
  /** The server, started in `beforeAll` (reading it before then throws). */
  readonly server: GeminiWireServer;
  /** An engine for model `gemini-2.5-flash` on the server; `config` overrides config fields. */
  engine(config?: Partial<ModelConfigInput>): ReturnType<typeof createGeminiEngine>;
  /** The JSON body of the last request the server received. */
  lastBody(): Record<string, unknown>;
}

/** Registers the hooks that start the server before the file's tests and close it after them. */
export function useGeminiWireServer(options: Omit<GeminiWireServerOptions, 'apiKey'> = {}): GeminiWireFixture {
  const server = useStartedServer('Gemini wire server', () => startGeminiWireServer({ ...options, apiKey: GEMINI_TEST_KEY }));
  return {
    get server() {
      return server();
    },
    engine: (config = {}) =>
      createGeminiEngine(
        ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-2.5-flash', baseURL: server().url, apiKey: GEMINI_TEST_KEY, ...config }),
        defaultEngineContext({ env: {} }),
      ),
    lastBody: () => server().requests.at(-1)!.body as Record<string, unknown>,
  };
}
