import type { EngineFactory } from '../engines/types.js';
import type { LanguageEngine } from '../spec/index.js';
import { LLMError } from '../errors/llm-error.js';
import type { RouterDeployment } from './deployment.js';

/**
 * The error of every call of a tenant's own model whose secrets are not set (`SetTenantOptions.unsetSecrets`):
 * `no_deployment` (503, not retryable) naming the model and the fields; no request was sent.
 */
export function unsetSecretsError(model: string, fields: readonly string[]): LLMError {
  return new LLMError({
    code: 'no_deployment',
    message: `Model "${model}" cannot be called until its ${fields.join(', ')} ${fields.length === 1 ? 'is' : 'are'} set (no request was sent)`,
    deployment: model,
    isRetryable: false,
    details: { unsetSecrets: [...fields] },
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
 * its admin checks, not the server's. A `no_deployment` (503, not retryable) naming the model and the field, without
 * the engine's message (it names server paths; it stays in `cause` for the server log); other errors as they are.
 */
export function ownModelError(error: LLMError, d: RouterDeployment): LLMError {
  if (error.code !== 'config_invalid' || d.engineContext.namedEnvOnly !== true) return error;
  const what =
    error.param === 'path' && d.config.path !== undefined
      ? `its model file (path "${d.config.path}") is missing or not a usable model file`
      : `its ${error.param ? `${error.param} setting` : 'configuration'} cannot be used`;
  return new LLMError({
    code: 'no_deployment',
    message: `Model "${d.name}" cannot be served: ${what}; an admin must set the model again`,
    deployment: d.name,
    provider: d.provider,
    isRetryable: false,
    cause: error,
  });
}
