import { LLMError, engineFactory, registeredEngines, type ModelConfig } from '@llmrr/core';
import { modelNameProblem } from '../schemas/model-name.js';

/**
 * Checks a tenant's own models before they are stored: names unique within the tenant, and an engine
 * kind the gateway can build (the built-in ones and those added with core's `registerEngine`), and a name
 * and alias that requests can carry (`isModelName`: at most 256 characters, no control characters). Bad
 * input is a 400 naming the field (`models.1.engine`), never a model that silently fails to load later.
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
  });
}
