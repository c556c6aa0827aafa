import { describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { rejection } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { requireModelPath } from './require-model-path.js';

const ctx = defaultEngineContext({ baseDir: '/base' });

describe('requireModelPath', () => {
  it('resolves a relative path against the base dir and keeps the configured one', () => {
    const model = ModelConfigSchema.parse({ name: 'm', engine: 'gguf', path: 'models/a.gguf' });
    expect(requireModelPath(model, ctx, 'gguf', '.gguf')).toEqual({ path: '/base/models/a.gguf', configuredPath: 'models/a.gguf' });
    const absolute = ModelConfigSchema.parse({ name: 'm', engine: 'gguf', path: '/abs/a.gguf' });
    expect(requireModelPath(absolute, ctx, 'gguf', '.gguf').path).toBe('/abs/a.gguf');
  });

  it('refuses a model without path with config_invalid naming path', async () => {
    const model = ModelConfigSchema.parse({ name: 'm', engine: 'onnx' });
    const e = await rejection(Promise.resolve().then(() => requireModelPath(model, ctx, 'onnx', '.onnx')));
    expect([e.code, e.param, e.provider, e.deployment]).toEqual(['config_invalid', 'path', 'onnx', 'm']);
    expect(e.message).toBe('Model "m" (onnx): path is required (the .onnx file, relative to /base)');
  });
});
