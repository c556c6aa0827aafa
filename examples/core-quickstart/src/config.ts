import type { ModelConfigInput, RouterConfigInput } from '@llmrr/core';

/**
 * The quickstart's deployments: two on the deterministic `mock` engine (offline test doubles, never models:
 * they answer "Mock answer to: ...") with different prices and quality scores, so strategies choose
 * differently; both answer to the alias `mock`. With `localModel` (a stories260K.gguf path), a real
 * 260K-parameter story model joins them, run in process by node-llama-cpp.
 */
export function quickstartConfig(localModel: string | undefined): RouterConfigInput {
  const models: ModelConfigInput[] = [
    { name: 'mock-smart', engine: 'mock', alias: 'mock', price: { input: 3, output: 15 }, quality: 0.9, priority: 1, contextWindow: 200_000 },
    { name: 'mock-fast', engine: 'mock', alias: 'mock', price: { input: 0.15, output: 0.6 }, quality: 0.5, priority: 2, contextWindow: 128_000 },
  ];
  if (localModel !== undefined) {
    models.push({
      name: 'stories260K',
      engine: 'gguf',
      path: localModel,
      price: { input: 0, output: 0 },
      quality: 0.2,
      priority: 3,
      contextWindow: 512,
      // One thread: on a small machine more threads are far slower. A story model has no chat template.
      options: { threads: 1, chatTemplate: 'none', maxTokens: 48 },
    });
  }
  return {
    models,
    routing: {
      strategy: 'balanced',
      // Quick retries for the demo, and a circuit that opens after two failures in a row.
      retries: { max: 1, initialDelayMs: 20, maxDelayMs: 100 },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 30_000 },
    },
  };
}

/** A deployment that fails twice with a 503-like error, then answers: loaded at run time by the fallback demo. */
export const flakyDeployment: ModelConfigInput = {
  name: 'mock-flaky',
  engine: 'mock',
  price: { input: 1, output: 5 },
  options: { failures: [{ code: 'provider_unavailable', message: 'upstream said 503', times: 2 }] },
};
