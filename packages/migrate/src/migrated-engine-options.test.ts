/**
 * A migrated v1 config builds with the real engine factories (their `checkConfig`, which core-router.test.ts swaps
 * out): the Anthropic, Gemini, GGUF and ONNX engines refuse option names they do not read, so a v1 key the migration
 * would keep in `options` (a display name, an unknown model key, an unread v1 option) that the model's engine refuses
 * is kept under `legacy.modelOptions.<model>` instead (the router ignores it) and reported, naming the field.
 */
import { LLMRouter, type RouterConfigInput } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { migrate } from './library/migrate.js';

async function build(config: RouterConfigInput): Promise<string | undefined> {
  try {
    await new LLMRouter(config, { env: {} }).close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('a migrated v1 config builds with the real engine factories', () => {
  it('an Anthropic model with a v1 display name (id + name)', async () => {
    const result = migrate({
      models: [
        { id: 'fast', provider: 'openai', model: 'gpt-4o-mini' },
        { id: 'claude', name: 'Claude Haiku', provider: 'anthropic', model: 'claude-3-haiku-20240307' },
      ],
      strategy: 'priority',
    });
    const config = result.config as RouterConfigInput & { legacy?: unknown };
    expect(await build(config)).toBeUndefined();
    expect(config.models.map((m) => (m as { options?: unknown }).options)).toEqual([undefined, undefined]);
    expect(config.legacy).toEqual({ modelOptions: { claude: { displayName: 'Claude Haiku' } } });
    expect(result.issues).toContainEqual(expect.objectContaining({ path: 'models.1.name', severity: 'warning', message: expect.stringContaining('legacy.modelOptions.claude.displayName') }));
  });

  it('every engine kind migrate emits: options an engine reads stay, the others move to legacy', async () => {
    const result = migrate({
      models: [
        { id: 'fast', name: 'Fast', provider: 'openai', model: 'gpt-4o-mini', temperature: 0.2 },
        { id: 'claude', provider: 'anthropic', model: 'claude-3-haiku-20240307', temperature: 0.3, options: { exactTokenCount: true } },
        { id: 'gem', name: 'Gemini', provider: 'google', model: 'gemini-1.5-flash', options: { color: 'red' } },
        { id: 'local', name: 'Local', format: 'gguf', source: './models/tiny.gguf', threads: 4 },
        { id: 'emb', format: 'onnx', source: './models/e5.onnx', quantized: true },
        { id: 'echo', source: 'mock:echo', reply: 'hi', note: 'test double' },
      ],
      strategy: 'priority',
    });
    const config = result.config as RouterConfigInput & { legacy?: unknown };
    expect(await build(config)).toBeUndefined();
    expect(Object.fromEntries(config.models.map((m) => [m.name, [m.engine, (m as { options?: unknown }).options]]))).toEqual({
      fast: ['openai-compatible', { displayName: 'Fast', temperature: 0.2 }],
      claude: ['anthropic', { exactTokenCount: true }],
      gem: ['gemini', undefined],
      local: ['gguf', { threads: 4 }],
      emb: ['onnx', undefined],
      echo: ['mock', { reply: 'hi' }],
    });
    expect(config.legacy).toEqual({
      modelOptions: { claude: { temperature: 0.3 }, gem: { displayName: 'Gemini', color: 'red' }, local: { displayName: 'Local' }, emb: { quantized: true }, echo: { note: 'test double' } },
    });
    const moved = result.issues.filter((i) => i.message.includes('refuses options.')).map((i) => i.path);
    expect(moved.sort()).toEqual(['models.1.temperature', 'models.2.name', 'models.2.options.color', 'models.3.name', 'models.4.quantized', 'models.5.note']);
  });
});
