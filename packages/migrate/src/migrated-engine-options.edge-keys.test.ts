/**
 * Options an engine refuses, moved under `legacy.modelOptions`: a v1 model left out as a duplicate (same name after
 * renaming) does not write into the kept model's entry, and a refused key holding a dot is moved as any other.
 */
import { LLMRouter, type RouterConfigInput } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { migrate } from './library/migrate.js';

describe('refused options moved under legacy.modelOptions', () => {
  it("a dropped duplicate's refused option does not replace the kept model's under legacy.modelOptions", () => {
    const result = migrate({
      models: [
        { id: 'claude', name: 'Claude Kept', provider: 'anthropic', model: 'claude-3-haiku-20240307' },
        { id: 'claude', name: 'Claude Dropped', provider: 'anthropic', model: 'claude-3-5-haiku-20241022' },
      ],
      strategy: 'priority',
    });
    const config = result.config as RouterConfigInput & { legacy?: { modelOptions?: Record<string, Record<string, unknown>> } };
    expect(config.models).toHaveLength(1);
    expect(result.issues).toContainEqual(expect.objectContaining({ path: 'models.1', message: expect.stringContaining('duplicate') }));
    expect(config.legacy?.modelOptions?.claude).toEqual({ displayName: 'Claude Kept' });
  });

  it('a v1 option key with a dot in its name that the engine refuses is moved too: the migrated config builds', async () => {
    const result = migrate({
      models: [{ id: 'claude', provider: 'anthropic', model: 'claude-3-haiku-20240307', options: { 'x.note': 'a', color: 'red' } }],
      strategy: 'priority',
    });
    const config = result.config as RouterConfigInput;
    let built: string | undefined;
    try {
      await new LLMRouter(config, { env: {} }).close();
    } catch (e) {
      built = (e as Error).message;
    }
    expect(built).toBeUndefined();
  });
});
