import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { rejection } from '../../test/async.test-helpers.js';
import { parseEngineOptions } from './parse-engine-options.js';

const Schema = z.object({ threads: z.number().int().positive().default(1) }).strict();
const model = (options?: Record<string, unknown>) => ModelConfigSchema.parse({ name: 'm', engine: 'gguf', ...(options ? { options } : {}) });

describe('parseEngineOptions', () => {
  it('applies the schema defaults, also when there are no options', () => {
    expect(parseEngineOptions(Schema, model(), 'gguf')).toEqual({ threads: 1 });
    expect(parseEngineOptions(Schema, model({ threads: 3 }), 'gguf')).toEqual({ threads: 3 });
  });

  it('names a bad field as options.<field> in a config_invalid error', async () => {
    const error = await rejection(Promise.resolve().then(() => parseEngineOptions(Schema, model({ threads: 0 }), 'onnx')));
    expect([error.code, error.param, error.provider, error.deployment]).toEqual(['config_invalid', 'options.threads', 'onnx', 'm']);
    expect(error.message).toMatch(/^Model "m" \(onnx\): options\.threads: /);
  });

  it('names an unknown key', async () => {
    expect((await rejection(Promise.resolve().then(() => parseEngineOptions(Schema, model({ thread: 2 }), 'gguf')))).param).toBe('options.thread');
  });
});
