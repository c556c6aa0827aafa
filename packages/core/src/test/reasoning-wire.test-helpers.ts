/**
 * Shared setup of the engines' reasoning tests (test-only: `*.test-helpers.ts` is left out of the build): one
 * local wire server per test file (started before all tests, its request log cleared after each, closed
 * after all), an engine factory per provider pointing at it, and the request every test sends.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../config/schema.js';
import { createAnthropicEngine } from '../engines/anthropic/create-anthropic-engine.js';
import { createGeminiEngine } from '../engines/gemini/create-gemini-engine.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { defaultEngineContext } from '../engines/types.js';
import type { GenerateRequest, ReasoningEffort, ReasoningOptions } from '../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireServer, type AnthropicWireServerOptions } from './anthropic-wire-server.js';
import { startGeminiWireServer, type GeminiWireServer } from './gemini-wire-server.js';
import { startOpenAIWireServer, type OpenAIWireServer } from './openai-wire-server.js';

/** The user turn 'Think about it' with `reasoning` (left out when undefined) and any other request fields. */
export const ask = (reasoning: ReasoningOptions | undefined, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: 'user', content: 'Think about it' }],
  ...(reasoning ? { reasoning } : {}),
  ...extra,
});

/** 'ok' when `p` resolves, else the error's message. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Registers the file's hooks for one wire server; read it through `.server` inside tests. */
function useWireServer<S extends { readonly requests: unknown[]; close(): Promise<void> }>(start: () => Promise<S>): { readonly server: S } {
  let server: S | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server?.close());
  afterEach(() => {
    if (server) server.requests.length = 0;
  });
  return {
    get server(): S {
      if (!server) throw new Error('the wire server is not started yet (use it inside a test)');
      return server;
    },
  };
}

/** A model id, or config fields over the defaults. */
type EngineConfig = string | Partial<ModelConfigInput>;
const fields = (config: EngineConfig): Partial<ModelConfigInput> => (typeof config === 'string' ? { model: config } : config);

/**
 * An Anthropic wire server (key 'sk-ant-test', then `options`) and `engine(config)`: a deployment 'claude' on it,
 * model `defaults.model` ('claude-test-1' unless given), with `config` over it.
 */
export function useAnthropicReasoning(options: Omit<AnthropicWireServerOptions, 'apiKey'> = {}, defaults: Partial<ModelConfigInput> = {}) {
  const wire = useWireServer<AnthropicWireServer>(() => startAnthropicWireServer({ apiKey: 'sk-ant-test', ...options }));
  const engine = (config: EngineConfig = {}) => {
    const model = ModelConfigSchema.parse({ name: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: wire.server.url, apiKey: 'sk-ant-test', ...defaults, ...fields(config) });
    return createAnthropicEngine(model, defaultEngineContext({ env: {} }));
  };
  return { wire, engine };
}

/** A Gemini wire server (key 'gm-test') and `engine(model, extra)`: a deployment 'gem' on it. */
export function useGeminiReasoning() {
  const wire = useWireServer<GeminiWireServer>(() => startGeminiWireServer({ apiKey: 'gm-test' }));
  const engine = (model: string, extra: Partial<ModelConfigInput> = {}) => {
    const config = ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model, baseURL: wire.server.url, apiKey: 'gm-test', ...extra });
    return createGeminiEngine(config, defaultEngineContext({ env: {} }));
  };
  /** The `generationConfig.thinkingConfig` of the i-th request received. */
  const thinkingConfig = (i = 0) => (wire.server.requests[i]!.body!.generationConfig as { thinkingConfig?: Record<string, unknown> } | undefined)?.thinkingConfig;
  return { wire, engine, thinkingConfig };
}

/**
 * An OpenAI wire server and `engine(config)`: an openai-compatible deployment 'o' on it (model 'gpt-5-test'
 * unless given); `sentEffort(model, effort)` sends 'Hi' with that effort and returns the `reasoning_effort`
 * the server received.
 */
export function useOpenAIReasoning() {
  const wire = useWireServer<OpenAIWireServer>(() => startOpenAIWireServer());
  const engine = (config: EngineConfig = {}): OpenAICompatibleEngine => {
    const model = ModelConfigSchema.parse({ name: 'o', model: 'gpt-5-test', baseURL: wire.server.baseURL, ...fields(config) });
    return new OpenAICompatibleEngine(model, defaultEngineContext({ env: {} }));
  };
  const sentEffort = async (model: string, effort: ReasoningEffort): Promise<unknown> => {
    await engine(model).generate({ messages: [{ role: 'user', content: 'Hi' }], reasoning: { effort } });
    const requests = wire.server.requests;
    return (requests[requests.length - 1]!.body as Record<string, unknown>).reasoning_effort;
  };
  return { wire, engine, sentEffort };
}
