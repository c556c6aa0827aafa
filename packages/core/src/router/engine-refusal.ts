import type { EngineRefusal, GenerateRequest, LanguageEngine } from '../spec/index.js';
import type { RouterDeployment } from './deployment.js';

/**
 * What `d`'s engine refuses of a chat `request` before sending anything (`LanguageEngineV1.refusal`), asked while a
 * call is planned (`selectCandidates`, a requested deployment's fallbacks) and again before a deployment's first
 * attempt (a fallback is asked only when reached: its engine is created then). `created`: the error the engine's
 * creation threw instead, which the deployment's first attempt then fails with (the factory is not called again for
 * it). A `refusal` that throws is no refusal: the attempt runs and reports its own error.
 */
export function engineRefusal(d: RouterDeployment, request: GenerateRequest): { refusal?: EngineRefusal; created?: unknown } {
  let engine: LanguageEngine;
  try {
    engine = d.engine();
  } catch (e) {
    return { created: e };
  }
  if (typeof engine.refusal !== 'function') return {};
  try {
    const refusal = engine.refusal(request);
    return refusal === undefined ? {} : { refusal };
  } catch {
    return {};
  }
}
