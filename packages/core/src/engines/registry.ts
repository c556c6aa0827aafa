import type { ModelConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import type { LanguageEngine } from '../spec/index.js';
import { createAnthropicEngine } from './anthropic/index.js';
import { createGeminiEngine } from './gemini/index.js';
import { createGgufEngine } from './gguf/index.js';
import { createMockEngine } from './mock/mock-engine.js';
import { createOnnxEngine } from './onnx/index.js';
import { createOpenAICompatibleEngine } from './openai-compatible/index.js';
import type { EngineContext, EngineFactory } from './types.js';

/**
 * Engine factories by engine kind (`ModelConfig.engine`). The built-in kinds are registered here; the
 * local engines (gguf, onnx) load their heavy peer dependency only on first use.
 */
const factories = new Map<string, EngineFactory>([
  ['openai-compatible', createOpenAICompatibleEngine],
  ['anthropic', createAnthropicEngine],
  ['gemini', createGeminiEngine],
  ['gguf', createGgufEngine],
  ['onnx', createOnnxEngine],
  ['mock', createMockEngine],
]);

/** Registers (or replaces) the factory for an engine kind. */
export function registerEngine(name: string, factory: EngineFactory): void {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new LLMError({ code: 'config_invalid', message: 'registerEngine: the engine name must be a non-empty string', param: 'name' });
  }
  if (typeof factory !== 'function') {
    throw new LLMError({ code: 'config_invalid', message: `registerEngine("${name}"): the factory must be a function`, param: 'factory' });
  }
  factories.set(name, factory);
}

/** Removes an engine kind; returns whether it was registered. */
export function unregisterEngine(name: string): boolean {
  return factories.delete(name);
}

export function hasEngine(name: string): boolean {
  return factories.has(name);
}

/** Names of the registered engine kinds, sorted. */
export function registeredEngines(): string[] {
  return [...factories.keys()].sort();
}

/** The factory for an engine kind, looking in `extra` (per-router factories) first. */
export function engineFactory(name: string, extra?: Readonly<Record<string, EngineFactory>>): EngineFactory | undefined {
  return (extra && Object.hasOwn(extra, name) ? extra[name] : undefined) ?? factories.get(name);
}

/** Throws `config_invalid` naming the model and the engine when no factory is registered for it. */
export function assertEngineKnown(model: Pick<ModelConfig, 'name' | 'engine'>, extra?: Readonly<Record<string, EngineFactory>>): EngineFactory {
  const factory = engineFactory(model.engine, extra);
  if (factory) return factory;
  const known = [...new Set([...registeredEngines(), ...Object.keys(extra ?? {})])].sort();
  throw new LLMError({
    code: 'config_invalid',
    message: `Model "${model.name}" uses engine "${model.engine}", which is not registered (registered: ${known.join(', ') || 'none'}). Register it with registerEngine("${model.engine}", factory).`,
    param: 'engine',
    deployment: model.name,
  });
}

/** Creates the engine for a model config with the registered factory. */
export function createEngine(model: ModelConfig, ctx: EngineContext, extra?: Readonly<Record<string, EngineFactory>>): LanguageEngine {
  return assertEngineKnown(model, extra)(model, ctx);
}
