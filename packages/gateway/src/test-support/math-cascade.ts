import type { OpenAIWireServer } from '@llmrr/core/test';
import type { HarnessOptions, ModelInput } from './harness.js';

/** The GSM8K question the cascade tests ask, and the weak model's wrong and right answers to it. */
export const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
export const WRONG = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
export const WEAK_USAGE = { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 };
/** USD per 1M tokens: weak 1 / 2 (so `WEAK_USAGE` costs this), strong 10 / 30. */
export const WEAK_COST = (40 * 1 + 20 * 2) / 1e6;

/**
 * The virtual model `math-cascade`: `mixtral` (weak, on `weak`) checked by the `arithmetic` verifier, escalating to
 * `gpt-4` (strong, on `strong`), both local OpenAI-wire servers; `weakPrice` adds rates to the weak model's price.
 */
export function mathCascade(weak: OpenAIWireServer, strong: OpenAIWireServer, weakPrice: Record<string, number> = {}): { models: ModelInput[]; routing: NonNullable<HarnessOptions['routing']> } {
  return {
    models: [
      { name: 'mixtral', engine: 'openai-compatible', baseURL: weak.baseURL, model: 'mixtral-8x7b', apiKey: 'k', price: { input: 1, output: 2, ...weakPrice } },
      { name: 'gpt-4', engine: 'openai-compatible', baseURL: strong.baseURL, model: 'gpt-4-test', apiKey: 'k', price: { input: 10, output: 30 } },
    ],
    routing: { cascades: [{ name: 'math-cascade', weak: 'mixtral', strong: 'gpt-4', verifier: 'arithmetic' }] },
  };
}
