import { LLMError, defaultEngineContext, engineFactory, registeredEngines, type EngineContext, type ModelConfig } from '@llmrr/core';
import { modelNameProblem } from '../schemas/model-name.js';

/**
 * Checks a tenant's own models before they are stored: names unique within the tenant, and an engine
 * kind the gateway can build (the built-in ones and those added with core's `registerEngine`), and a name
 * and alias that requests can carry (`isModelName`: at most 256 characters, no control characters), and
 * settings the engine takes: the engine's factory is run once, as the router runs it on the model's first
 * request (it checks `options`, `path`, ...), with a fetch that refuses every call; the built-in factories
 * load no weights and open no connection when they build an engine. Bad input is a 400 naming the field
 * (`models.1.engine`, `models.0.options.apiKey`), never a model that silently fails to load later.
 */
export function checkTenantModels(models: readonly ModelConfig[] | undefined): void {
  if (!models) return;
  const names = new Set<string>();
  models.forEach((m, i) => {
    for (const field of ['name', 'alias'] as const) {
      const value = m[field];
      const problem = value === undefined ? undefined : modelNameProblem(value);
      if (problem) throw new LLMError({ code: 'invalid_request', message: `models.${i}.${field} ${problem}`, param: `models.${i}.${field}` });
    }
    if (names.has(m.name)) {
      throw new LLMError({ code: 'invalid_request', message: `Duplicate model name "${m.name}" in models`, param: `models.${i}.name` });
    }
    names.add(m.name);
    if (!engineFactory(m.engine)) {
      throw new LLMError({
        code: 'invalid_request',
        message: `Unknown engine "${m.engine}" for model "${m.name}" (known: ${registeredEngines().join(', ')})`,
        param: `models.${i}.engine`,
      });
    }
    checkEngineSettings(m, i);
  });
}

/** A fetch for the trial build: an engine must not call out while it is built. */
const noFetch: EngineContext['fetch'] = () => Promise.reject(new Error('no network while checking a tenant model'));

/** Builds (and closes) the model's engine once; a refused setting is a 400 naming `models.<i>.<field>`. */
function checkEngineSettings(m: ModelConfig, i: number): void {
  const factory = engineFactory(m.engine)!;
  try {
    const engine = factory(m, defaultEngineContext({ fetch: noFetch }));
    engine.close?.().catch(() => undefined);
  } catch (e) {
    const field = LLMError.isInstance(e) && e.param ? `.${e.param}` : '';
    const why = e instanceof Error ? e.message : String(e);
    throw new LLMError({ code: 'invalid_request', message: `models.${i}${field}: the ${m.engine} engine refuses this model: ${why}`, param: `models.${i}${field}` });
  }
}
