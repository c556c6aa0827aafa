import type { EngineFactory } from '../engines/types.js';
import type { LanguageEngine } from '../spec/index.js';
import { LLMError } from '../errors/llm-error.js';
import type { RouterDeployment } from './deployment.js';

/**
 * Marks the errors of this file (`details.unservableOwnModel: true`): a tenant's own model that cannot be served as it
 * is set. Such a `no_deployment` is permanent (a retry gets the same until an admin sets the model again: the gateway
 * answers it with `x-should-retry: false`) and says nothing of the deployment's health (no strike on its circuit;
 * `countsAgainstDeployment`). The router's other `no_deployment` errors (none planned; a deployment retired under
 * the call, which a retry plans afresh) are not so marked.
 */
export interface UnservableOwnModelDetails {
  unservableOwnModel: true;
  /** The fields to set (`SetTenantOptions.unsetSecrets`), when that is why. */
  unsetSecrets?: string[];
}

/** Whether `error` says a tenant's own model cannot be served as it is set (`UnservableOwnModelDetails`). */
export function isUnservableOwnModel(error: LLMError): boolean {
  const details = error.details;
  return error.code === 'no_deployment' && typeof details === 'object' && details !== null && (details as Partial<UnservableOwnModelDetails>).unservableOwnModel === true;
}

/**
 * The error of every call of a tenant's own model whose secrets are not set (`SetTenantOptions.unsetSecrets`):
 * `no_deployment` (503, not retryable, `isUnservableOwnModel`) naming the model and the fields; no request was sent.
 */
export function unsetSecretsError(model: string, fields: readonly string[]): LLMError {
  const details: UnservableOwnModelDetails = { unservableOwnModel: true, unsetSecrets: [...fields] };
  return new LLMError({
    code: 'no_deployment',
    message: `Model "${model}" cannot be called until its ${fields.join(', ')} ${fields.length === 1 ? 'is' : 'are'} set (no request was sent)`,
    deployment: model,
    isRetryable: false,
    details,
  });
}

/**
 * `factory` for a model whose secrets are not set: the engine is built from the config without them (so the model is
 * listed and planned with its own capabilities), but each call of it (generate, stream, embed) fails with
 * `unsetSecretsError` before anything goes out: never a call without its key, answered by the provider's 401. An
 * engine that cannot be built without them fails so too.
 */
export function withUnsetSecrets(factory: EngineFactory, fields: readonly string[]): EngineFactory {
  const gated: EngineFactory = (model, ctx) => {
    let engine: LanguageEngine;
    try {
      engine = factory(model, ctx);
    } catch {
      throw unsetSecretsError(model.name, fields);
    }
    const fail = () => Promise.reject(unsetSecretsError(model.name, fields));
    return {
      specVersion: engine.specVersion,
      provider: engine.provider,
      modelId: engine.modelId,
      capabilities: engine.capabilities,
      generate: fail,
      stream: () => ({ [Symbol.asyncIterator]: () => ({ next: fail }) }),
      ...(engine.embed ? { embed: fail } : {}),
      ...(engine.embedDimensions !== undefined ? { embedDimensions: engine.embedDimensions } : {}),
      ...(engine.close ? { close: () => engine.close!() } : {}),
    };
  };
  if (factory.capabilities) gated.capabilities = factory.capabilities;
  if (factory.provider) gated.provider = factory.provider;
  if (factory.needsApiKey) gated.needsApiKey = factory.needsApiKey;
  return gated;
}

/**
 * A call-time `config_invalid` of a model a tenant brings (`setTenant(t, { useEnv: false })`: its engine context is
 * `namedEnvOnly`), such as a gguf/onnx model file deleted after the model was set: the tenant's configuration, which
 * its admin checks, not the server's. A `no_deployment` (503, not retryable, `isUnservableOwnModel`) naming the model
 * and the field (`models.N.path`: the deployment's `configPath`), never the server's path nor the engine's message (a
 * tenant's API key holders read it; both stay in `cause` for the server log); other errors as they are.
 */
export function ownModelError(error: LLMError, d: RouterDeployment): LLMError {
  if (error.code !== 'config_invalid' || d.engineContext.namedEnvOnly !== true) return error;
  const field = (name: string) => (d.configPath === undefined ? name : `${d.configPath}.${name}`);
  const what =
    error.param === 'path' && d.config.path !== undefined
      ? `its model file (${field('path')}) is missing or not a usable model file`
      : `its ${error.param ? `${field(error.param)} setting` : 'configuration'} cannot be used`;
  const details: UnservableOwnModelDetails = { unservableOwnModel: true };
  return new LLMError({
    code: 'no_deployment',
    message: `Model "${d.name}" cannot be served: ${what}; an admin must set the model again`,
    deployment: d.name,
    provider: d.provider,
    isRetryable: false,
    details,
    cause: error,
  });
}
