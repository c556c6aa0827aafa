import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { importOptional } from './optional-import.js';

async function caught(p: Promise<unknown>): Promise<LLMError> {
  try {
    await p;
  } catch (e) {
    expect(LLMError.isInstance(e)).toBe(true);
    return e as LLMError;
  }
  throw new Error('expected a rejection');
}

describe('importOptional', () => {
  it('imports an installed package', async () => {
    const mod = await importOptional<typeof import('zod')>('zod', { engine: 'test', install: 'zod' });
    expect(typeof mod.z.object).toBe('function');
  });

  it('turns a missing package into engine_unavailable with the install command', async () => {
    const e = await caught(
      importOptional('llmrr-not-installed-package-xyz', { engine: 'gguf', install: 'llmrr-not-installed-package-xyz@1.2.3' }),
    );
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toBe(
      'The gguf engine needs llmrr-not-installed-package-xyz, which is not installed: pnpm add llmrr-not-installed-package-xyz@1.2.3',
    );
    expect(e.provider).toBe('gguf');
    expect(e.cause).toBeDefined();
  });

  it('says "could not load" when the package is there but fails to load', async () => {
    const broken = new Error('libfoo.so: cannot open shared object file');
    const e = await caught(
      importOptional('onnxruntime-node', { engine: 'onnx', install: 'onnxruntime-node@1.30.0', importer: () => Promise.reject(broken) }),
    );
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toBe('The onnx engine could not load onnxruntime-node: libfoo.so: cannot open shared object file');
    expect(e.cause).toBe(broken);
  });

  it('does not call a missing dependency of the package a missing package', async () => {
    const inner = Object.assign(new Error("Cannot find package 'some-transitive-dep' imported from /x/node_modules/onnxruntime-node/dist/index.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const e = await caught(importOptional('onnxruntime-node', { engine: 'onnx', install: 'x', importer: () => Promise.reject(inner) }));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toBe(`The onnx engine could not load onnxruntime-node: ${inner.message}`);
  });

  it('recognizes a missing scoped package by its package name', async () => {
    const e = await caught(importOptional('@llmrr-missing/pkg', { engine: 'x', install: '@llmrr-missing/pkg@1' }));
    expect(e.message).toMatch(/needs @llmrr-missing\/pkg, which is not installed: pnpm add @llmrr-missing\/pkg@1$/);
  });
});
