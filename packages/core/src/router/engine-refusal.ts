import type { EngineRefusal, GenerateRequest, LanguageEngine } from '../spec/index.js';
import type { RouterDeployment } from './deployment.js';

/**
 * What `d`'s engine refuses of a chat `request` before sending anything (`LanguageEngineV1.refusal`), asked before a
 * deployment's first attempt (`runAttempts`). `created`: the error the engine's creation threw instead, which that
 * first attempt then fails with (the factory is not called again for it). A `refusal` that throws is no refusal: the
 * attempt runs and reports its own error.
 */
export function engineRefusal(d: RouterDeployment, request: GenerateRequest): { refusal?: EngineRefusal; created?: unknown } {
  let engine: LanguageEngine;
  try {
    engine = d.engine();
  } catch (e) {
    return { created: e };
  }
  return { refusal: askRefusal(engine, request) };
}

/**
 * `engineRefusal` asked while a call is planned (`selectCandidates`, a deployment's fallbacks): only of an engine
 * already created, so that planning creates none (a heavy engine is not built, a factory that throws is not called, for
 * a deployment the call may never try). An engine not created yet has learned nothing (a latched refusal); what it
 * refuses from its config alone it is asked when the call reaches it (`engineRefusal`, the skipped attempt recorded).
 */
export function plannedRefusal(d: RouterDeployment, request: GenerateRequest): EngineRefusal | undefined {
  return d.engineCreated ? askRefusal(d.engine(), request) : undefined;
}

function askRefusal(engine: LanguageEngine, request: GenerateRequest): EngineRefusal | undefined {
  if (typeof engine.refusal !== 'function') return undefined;
  try {
    return engine.refusal(request);
  } catch {
    return undefined;
  }
}
