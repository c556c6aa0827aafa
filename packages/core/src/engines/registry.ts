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

/** Names of the engine kinds a router with its own factories `extra` can build (its own and the registered ones), sorted. */
export function knownEngines(extra?: Readonly<Record<string, EngineFactory>>): string[] {
  return extra ? [...new Set([...factories.keys(), ...Object.keys(extra)])].sort() : registeredEngines();
}

/** The factory for an engine kind, looking in `extra` (per-router factories) first. */
export function engineFactory(name: string, extra?: Readonly<Record<string, EngineFactory>>): EngineFactory | undefined {
  return (extra && Object.hasOwn(extra, name) ? extra[name] : undefined) ?? factories.get(name);
}

/** Throws `config_invalid` naming the model and the engine when no factory is registered for it. */
export function assertEngineKnown(model: Pick<ModelConfig, 'name' | 'engine'>, extra?: Readonly<Record<string, EngineFactory>>): EngineFactory {
  const factory = engineFactory(model.engine, extra);
  if (factory) return factory;
  const known = knownEngines(extra);
  throw new LLMError({
    code: 'config_invalid',
    message: `Model "${model.name}" uses engine "${model.engine}", which is not registered (registered: ${known.join(', ') || 'none'}). Register it with registerEngine("${model.engine}", factory).`,
    param: 'engine',
    deployment: model.name,
  });
}

/**
 * Asks `factory` to check `model`'s engine settings (`EngineFactory.checkConfig`: no side effect), naming a bad field
 * under `path` (the model's place in the config, `models.0`): `models.0.options.thread`, `models.0.preset`.
 */
export function checkEngineConfig(factory: EngineFactory, model: ModelConfig, path: string): void {
  if (typeof factory.checkConfig !== 'function') return;
  try {
    factory.checkConfig(model);
  } catch (e) {
    if (!LLMError.isInstance(e) || e.code !== 'config_invalid') throw e;
    // Engines name the field alone (`options.x`) or under the model's name (`models.<name>.x`).
    const own = `models.${model.name}.`;
    const field = e.param === undefined ? undefined : e.param.startsWith(own) ? e.param.slice(own.length) : e.param;
    const param = field === undefined ? path : `${path}.${field}`;
    throw e.with({ param, message: e.message.includes(param) ? e.message : `${param}: ${e.message}` });
  }
}

/** Creates the engine for a model config with the registered factory. */
export function createEngine(model: ModelConfig, ctx: EngineContext, extra?: Readonly<Record<string, EngineFactory>>): LanguageEngine {
  return assertEngineKnown(model, extra)(model, ctx);
}
