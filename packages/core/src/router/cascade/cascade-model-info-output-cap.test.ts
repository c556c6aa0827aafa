import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../config/schema.js';
import { LLMRouter } from '../llm-router.js';

// A cascade's maxOutputTokens in models() is the most output one step can be sent: the router caps a maxTokens at
// each step's own cap, so a step without a cap takes the whole maxTokens and the cascade has no cap either (the
// gateway's budget reservation and tokens-per-minute estimate trust this cap). An alias step counts its members
// the same way. No network: models() does not call the deployments.

async function cascadeCap(models: ModelConfig[]): Promise<number | undefined> {
  const router = new LLMRouter({ models, routing: { cascades: [{ name: 'c', weak: 'weak', strong: 'strong' }] } });
  try {
    const c = router.models().find((m) => m.name === 'c');
    expect(c?.engine).toBe('cascade');
    return c!.config.maxOutputTokens;
  } finally {
    await router.close();
  }
}

describe("a cascade's maxOutputTokens", () => {
  it('is the larger cap when both steps have one', async () => {
    expect(await cascadeCap([
      { name: 'weak', engine: 'mock', maxOutputTokens: 10 },
      { name: 'strong', engine: 'mock', maxOutputTokens: 4000 },
    ] as ModelConfig[])).toBe(4000);
  });

  it('is absent when the strong step has no cap (it is sent the whole maxTokens)', async () => {
    expect(await cascadeCap([
      { name: 'weak', engine: 'mock', maxOutputTokens: 10 },
      { name: 'strong', engine: 'mock' },
    ] as ModelConfig[])).toBeUndefined();
  });

  it('is absent when the weak step has no cap', async () => {
    expect(await cascadeCap([
      { name: 'weak', engine: 'mock' },
      { name: 'strong', engine: 'mock', maxOutputTokens: 10 },
    ] as ModelConfig[])).toBeUndefined();
  });

  it('is absent when one member of an alias step has no cap, the largest member cap otherwise', async () => {
    expect(await cascadeCap([
      { name: 'weak', engine: 'mock', maxOutputTokens: 10 },
      { name: 's1', alias: 'strong', engine: 'mock', maxOutputTokens: 20 },
      { name: 's2', alias: 'strong', engine: 'mock' },
    ] as ModelConfig[])).toBeUndefined();
    expect(await cascadeCap([
      { name: 'weak', engine: 'mock', maxOutputTokens: 10 },
      { name: 's1', alias: 'strong', engine: 'mock', maxOutputTokens: 20 },
      { name: 's2', alias: 'strong', engine: 'mock', maxOutputTokens: 30 },
    ] as ModelConfig[])).toBe(30);
  });
});
