import { afterEach, beforeEach } from 'vitest';
import type { ModelConfigInput, SemanticCacheConfigInput } from '../../config/schema.js';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '../../test/openai-wire-server.js';

/**
 * The semantic guard's spend tests over real HTTP: a local server speaking the OpenAI wire format serves the model
 * (`main-test`), the guard model (`guard-test`) and the embeddings, and records each request. Prices in USD per 1M
 * tokens; usages as the upstream reports them.
 */
export const MAIN_PRICE = { input: 2, output: 8 };
export const GUARD_PRICE = { input: 1, output: 4 };
export const MAIN_USAGE = { prompt_tokens: 100, completion_tokens: 50 };
export const GUARD_USAGE = { prompt_tokens: 300, completion_tokens: 3 };
export const MAIN_USD = (100 * 2 + 50 * 8) / 1e6;
export const GUARD_USD = (300 * 1 + 3 * 4) / 1e6;
/** The guard call's tokens as the router reports them beside its cost (`guardUsage`, `guardUsageOf`). */
export const GUARD_TOKENS = { inputTokens: 300, outputTokens: 3, totalTokens: 303 };

export interface GuardWireUpstream {
  server: OpenAIWireServer;
  /**
   * What the guard model answers (`NO` with GUARD_USAGE until a test sets another), and what the other chat models
   * do on top of their answer (the Everest answer with MAIN_USAGE, usage streamed): an error, a hang.
   */
  script: { guard: OpenAIWireScript; main: OpenAIWireScript };
  /** How many chat calls the server got for the upstream model `model` (`main-test`, `guard-test`, ...). */
  calls(model: string): number;
  close(): Promise<void>;
}

const modelOf = (r: RecordedRequest) => (r.body as { model?: string } | undefined)?.model;

export async function startGuardWireUpstream(): Promise<GuardWireUpstream> {
  const script: GuardWireUpstream['script'] = { guard: { text: 'NO', usage: GUARD_USAGE }, main: {} };
  const server = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      if (modelOf(r) === 'guard-test') return script.guard;
      return { text: 'Mount Everest is 8,849 m tall.', usage: MAIN_USAGE, streamUsage: 'always', ...script.main };
    },
  });
  return {
    server,
    script,
    calls: (model) => server.requests.filter((r) => r.url.endsWith('/chat/completions') && modelOf(r) === model).length,
    close: () => server.close(),
  };
}

/** A new upstream for each test of the suite (started before it, closed after it): the handle reads the current one. */
export function useGuardWireUpstream(): Omit<GuardWireUpstream, 'close'> {
  let current: GuardWireUpstream | undefined;
  beforeEach(async () => {
    current = await startGuardWireUpstream();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const live = (): GuardWireUpstream => {
    if (!current) throw new Error('the guard wire upstream runs during a test only');
    return current;
  };
  return {
    get server() {
      return live().server;
    },
    get script() {
      return live().script;
    },
    calls: (model) => live().calls(model),
  };
}

/**
 * The deployments on `up`: `main` (main-test, chat and streaming), the ones `more` makes of the wire settings, the
 * guard model `judge` (guard-test) and the embedder `emb`.
 */
export function guardWireModels(up: Pick<GuardWireUpstream, 'server'>, more: (wire: { engine: 'openai-compatible'; baseURL: string; apiKey: string }) => ModelConfigInput[] = () => []): ModelConfigInput[] {
  const wire = { engine: 'openai-compatible', baseURL: up.server.baseURL, apiKey: 'k' } as const;
  return [
    { name: 'main', ...wire, model: 'main-test', price: MAIN_PRICE, capabilities: ['chat', 'streaming'] },
    ...more(wire),
    { name: 'judge', ...wire, model: 'guard-test', price: GUARD_PRICE, capabilities: ['chat'] },
    { name: 'emb', ...wire, model: 'emb-test', capabilities: ['embeddings'] },
  ];
}

/** The semantic cache on `emb` whose every match below 0.999 goes to the `judge` guard (`verify`). */
export const GUARD_EVERY_MATCH = { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' } satisfies SemanticCacheConfigInput;
