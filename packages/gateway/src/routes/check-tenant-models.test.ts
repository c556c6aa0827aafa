import { LLMError, ROUTING_MODEL_NAMES, reservedMessage, type ModelConfig } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { checkTenantModels } from './check-tenant-models.js';

/**
 * A tenant's own model named or aliased like a routing name (`auto`, `llmrr/auto`) is refused by core's own list and
 * check (`ROUTING_MODEL_NAMES`, `reservedNameFields`, `reservedMessage`): the admin API's 400 and the config's /
 * `setTenant`'s refusal cannot drift apart.
 */
describe('checkTenantModels: the routing names core reserves', () => {
  const refusal = (models: Array<Partial<ModelConfig>>): LLMError => {
    try {
      checkTenantModels(models as ModelConfig[]);
    } catch (e) {
      if (LLMError.isInstance(e)) return e;
      throw e;
    }
    throw new Error('not refused');
  };

  it.each(ROUTING_MODEL_NAMES.map((name) => [name]))('a model named or aliased %s: core\'s message, naming the field', (name) => {
    expect(refusal([{ name, engine: 'mock' }])).toMatchObject({ code: 'invalid_request', param: 'models.0.name', message: `models.0.name ${reservedMessage(name)}` });
    expect(refusal([{ name: 'mine', engine: 'mock' }, { name: 'other', alias: name, engine: 'mock' }])).toMatchObject({
      code: 'invalid_request',
      param: 'models.1.alias',
      message: `models.1.alias ${reservedMessage(name)}`,
    });
  });
});
