import type { RouterConfigInput } from '@llmrr/core';
import type { OpenAIWireServer, RecordedRequest } from '@llmrr/core/test';
import type { ModelInput } from './harness.js';

/**
 * The auxiliary-spend tests' models on one local OpenAI-wire upstream: prices (USD per 1M tokens) and the usage each
 * upstream model reports. The guard's prompt holds both questions and the cached answer: 450 tokens, within what the
 * reservation assumes (256 + twice the prompt estimate + twice max_tokens = 504 for these questions).
 */
export const MAIN = { price: { input: 2, output: 8 }, usage: { prompt_tokens: 100, completion_tokens: 50 } };
export const JUDGE = { price: { input: 10, output: 40 }, usage: { prompt_tokens: 450, completion_tokens: 1 } };
export const BIG = { price: { input: 10, output: 30 }, usage: { prompt_tokens: 100, completion_tokens: 20 } };
export const usd = (p: { input: number; output: number }, u: { prompt_tokens: number; completion_tokens: number }) => (u.prompt_tokens * p.input + u.completion_tokens * p.output) / 1e6;
export const MAIN_USD = usd(MAIN.price, MAIN.usage); // 0.0006
export const JUDGE_USD = usd(JUDGE.price, JUDGE.usage); // 0.00454
export const BIG_USD = usd(BIG.price, BIG.usage); // 0.0016

/** The upstream model a recorded request asked for. */
export const modelOf = (r: RecordedRequest) => (r.body as { model?: string } | undefined)?.model;
/** How many chat calls `up` got for the upstream model `model` (`gpt-test`, `big-test`, `judge-test`). */
export const chatCallsOf = (up: OpenAIWireServer, model: string) => up.requests.filter((r) => r.url.endsWith('/chat/completions') && modelOf(r) === model).length;

/**
 * The deployments on `up`: `main` (gpt-test), `big` (big-test, at `bigPrice`), the guard model `judge` (judge-test),
 * all chat and streaming, and the embedder `emb` (emb-test).
 */
export function guardedWireDeployments(up: OpenAIWireServer, bigPrice: { input: number; output: number } = BIG.price): ModelInput[] {
  const wire = { engine: 'openai-compatible', baseURL: up.baseURL, apiKey: 'k' } as const;
  const chat = ['chat', 'streaming'] as const;
  return [
    { name: 'main', ...wire, model: 'gpt-test', capabilities: [...chat], price: MAIN.price },
    { name: 'big', ...wire, model: 'big-test', capabilities: [...chat], price: bigPrice },
    { name: 'judge', ...wire, model: 'judge-test', capabilities: [...chat], price: JUDGE.price },
    { name: 'emb', ...wire, model: 'emb-test', capabilities: ['embeddings'] },
  ];
}

/** A semantic cache (embedder `emb`) whose every match below 0.999 goes to the `judge` guard (`verify`). */
export const GUARD_EVERY_MATCH: NonNullable<RouterConfigInput['cache']> = {
  semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' },
};
