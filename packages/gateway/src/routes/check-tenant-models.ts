import {
  AnthropicEngine,
  GeminiEngine,
  GgufEngine,
  LLMError,
  OnnxEmbeddingEngine,
  OnnxTextEngine,
  OpenAICompatibleEngine,
  OpenAICompatibleOptionsSchema,
  createOpenAICompatibleEngine,
  defaultEngineContext,
  engineFactory,
  namedEnvContext,
  registeredEngines,
  reservedMessage,
  reservedNameFields,
  type EngineContext,
  type EngineFactory,
  type ModelConfig,
} from '@llmrr/core';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { modelNameProblem } from '../schemas/model-name.js';
import type { GatewayRouter } from '../types.js';

/**
 * Checks a tenant's own models before they are stored: names unique within the tenant, and an engine
 * kind the router can build (`GatewayRouter.engineFactory`: core's router's own `engineFactories` over the built-in
 * ones and those added with core's `registerEngine`; the latter alone for a router without it), and a name
 * and alias that requests can carry (`isModelName`: at most 256 characters, no control characters) and that are not
 * the routing names core reserves (`auto`, `llmrr/auto`: core's `reservedNameFields`, as the config and `setTenant`
 * check them, with their message), and
 * settings the engine takes: the kind's factory (the one the router builds it with) is run once, as the router runs it
 * on the model's first request (it checks `options`, `path`, ...), with a fetch that refuses every call; the built-in factories
 * load no weights and open no connection when they build an engine. Bad input is a 400 naming the field
 * (`models.1.engine`, `models.0.options.apiKey`), never a model that silently fails to load later.
 *
 * A tenant's model brings its own key and address: the router builds it with `setTenant(t, { useEnv: false })`, so
 * its engine reads only the variable the model names by `apiKeyEnv` (the operator's way to keep the tenant's upstream
 * key out of the tenant record: only the admin key sets models), never a preset's own (`OPENAI_API_KEY`,
 * `AZURE_OPENAI_ENDPOINT`). A local model's file (`gguf`, `onnx`: `path`, relative to the router's `modelFilesDir`)
 * must be there and look like one (`checkModelFile`): the trial build does not open it. That check and the
 * `openai-compatible` option list (`checkOwnOptions`) are the built-in engines' (`builtInKind`): they hold when the
 * trial build's engine is core's `OpenAICompatibleEngine`, `GgufEngine` or an ONNX engine, whichever factory built it
 * (the registered one, or a router's own that wraps it: `gguf: (m, ctx) => engineFactory('gguf')!(m, ctx)`); a
 * router's own factory that builds another engine for such a kind's name has its models checked by its trial build
 * alone (its own options, a model served without a local file). The trial build sees the same environment (an Azure model without `baseURL` is refused,
 * not sent to the server's `AZURE_OPENAI_ENDPOINT`), and a model whose provider needs a key and that has neither
 * `apiKey` nor `apiKeyEnv` is refused naming `models.<i>.apiKey` (it could never be called): the factory's `needsApiKey`
 * says so, else (a factory that declares none, such as a router's own one wrapping a built-in) the engine the trial build
 * built does (`builtInNeedsApiKey`).
 */
export function checkTenantModels(models: readonly ModelConfig[] | undefined, router: Pick<GatewayRouter, 'modelFilesDir' | 'engineFactory' | 'engineKinds'> = {}): void {
  if (!models) return;
  const factoryOf = (kind: string): EngineFactory | undefined => (router.engineFactory ? router.engineFactory(kind) : engineFactory(kind));
  const names = new Set<string>();
  models.forEach((m, i) => {
    for (const field of ['name', 'alias'] as const) {
      const value = m[field];
      const problem = value === undefined ? undefined : modelNameProblem(value);
      if (problem) throw new LLMError({ code: 'invalid_request', message: `models.${i}.${field} ${problem}`, param: `models.${i}.${field}` });
    }
    // A request naming `auto` / `llmrr/auto` is routed over every model the tenant may use: a model so named would be
    // listed but never reached.
    const reserved = reservedNameFields(m)[0];
    if (reserved !== undefined) {
      throw new LLMError({ code: 'invalid_request', message: `models.${i}.${reserved} ${reservedMessage(m[reserved]!)}`, param: `models.${i}.${reserved}` });
    }
    if (names.has(m.name)) {
      throw new LLMError({ code: 'invalid_request', message: `Duplicate model name "${m.name}" in models`, param: `models.${i}.name` });
    }
    names.add(m.name);
    const factory = factoryOf(m.engine);
    if (typeof factory !== 'function') {
      throw new LLMError({
        code: 'invalid_request',
        message: `Unknown engine "${m.engine}" for model "${m.name}" (known: ${(router.engineKinds?.() ?? registeredEngines()).join(', ')})`,
        param: `models.${i}.engine`,
      });
    }
    // The built-in engines' own checks (the openai-compatible option list, a gguf / onnx file) hold for the engine the
    // factory builds, not its name: a router's own factory that builds another engine takes its own options.
    const engine = checkEngineSettings(factory, m, i);
    const kind = builtInKind(engine);
    if (kind === 'openai-compatible') checkOwnOptions(m, i);
    else if (kind !== undefined) checkModelFile(m, i, kind, router.modelFilesDir);
    if (!m.apiKey && m.apiKeyEnv === undefined && (factory.needsApiKey ? factory.needsApiKey(m) : builtInNeedsApiKey(engine, m))) {
      throw new LLMError({
        code: 'invalid_request',
        message: `models.${i}.apiKey: the ${m.engine} engine needs an API key for this model: set apiKey, or apiKeyEnv naming the server's variable that holds it (a tenant's model reads no other, such as a preset's OPENAI_API_KEY)`,
        param: `models.${i}.apiKey`,
      });
    }
  });
}

/**
 * The `openai-compatible` engine ignores option keys it does not know (a config's typo stays harmless there); a
 * tenant's model is refused one instead, so a misplaced `options.apiKey` or `options.baseURL` (they belong on the
 * model) is a 400 naming it, not a model that silently calls elsewhere. (The other engines refuse unknown keys
 * themselves: the trial build names them.)
 */
function checkOwnOptions(m: ModelConfig, i: number): void {
  const known = OpenAICompatibleOptionsSchema.shape;
  const unknown = Object.keys(m.options).find((k) => !Object.hasOwn(known, k));
  if (unknown === undefined) return;
  const onModel = ['apiKey', 'baseURL', 'headers', 'model', 'preset'].includes(unknown) ? ` (${unknown} goes on the model, not in options)` : '';
  throw new LLMError({
    code: 'invalid_request',
    message: `models.${i}.options.${unknown}: the openai-compatible engine takes no such option${onModel}; it takes ${Object.keys(known).join(', ')}`,
    param: `models.${i}.options.${unknown}`,
  });
}

/** A fetch for the trial build: an engine must not call out while it is built. */
const noFetch: EngineContext['fetch'] = () => Promise.reject(new Error('no network while checking a tenant model'));

/** The trial build's context without its environment: no network. */
let trialBase: EngineContext | undefined;

/**
 * Builds (and closes) the model's engine once, returning it (for `builtInKind`); a refused setting is a 400 naming
 * `models.<i>.<field>`.
 */
function checkEngineSettings(factory: EngineFactory, m: ModelConfig, i: number): unknown {
  try {
    // The environment the router gives a tenant's model: only the variable its `apiKeyEnv` names.
    const engine = factory(m, namedEnvContext((trialBase ??= defaultEngineContext({ fetch: noFetch })), m.apiKeyEnv));
    engine.close?.().catch(() => undefined);
    return engine;
  } catch (e) {
    // Engines name the field alone (`options.x`) or under the model's name (`models.<name>.options.x`).
    const own = `models.${m.name}.`;
    const param = LLMError.isInstance(e) ? e.param : undefined;
    const field = param ? `.${param.startsWith(own) ? param.slice(own.length) : param}` : '';
    const why = e instanceof Error ? e.message : String(e);
    throw new LLMError({ code: 'invalid_request', message: `models.${i}${field}: the ${m.engine} engine refuses this model: ${why}`, param: `models.${i}${field}` });
  }
}

/**
 * Whether the trial build's `engine`, one of core's engines that call a provider, needs a key for `m`, as its own
 * factory says (`needsApiKey`): for a factory that declares no `needsApiKey` (a router's own one that wraps the built-in
 * factory, `'openai-compatible': (m, ctx) => engineFactory('openai-compatible')!(m, ctx)`), so its `openai` preset model
 * without a key is refused as the built-in one's is. (A wrapper that supplies the key itself declares `needsApiKey`.)
 */
function builtInNeedsApiKey(engine: unknown, m: ModelConfig): boolean {
  if (engine instanceof OpenAICompatibleEngine) return createOpenAICompatibleEngine.needsApiKey(m);
  return engine instanceof AnthropicEngine || engine instanceof GeminiEngine;
}

/** Which built-in engine a trial build's `engine` is (core's class of it), if one whose own checks the admin API runs. */
function builtInKind(engine: unknown): 'openai-compatible' | 'gguf' | 'onnx' | undefined {
  if (engine instanceof OpenAICompatibleEngine) return 'openai-compatible';
  if (engine instanceof GgufEngine) return 'gguf';
  return engine instanceof OnnxTextEngine || engine instanceof OnnxEmbeddingEngine ? 'onnx' : undefined;
}

/**
 * An enabled `gguf` or `onnx` model's `path` names a model file: a regular file there (relative paths against
 * `modelFilesDir`, as the router resolves them; else the working directory), for `gguf` one that starts with the GGUF
 * magic (`GGUF`), for `onnx` one that is not empty (an ONNX model is a protobuf message, which has no fixed magic
 * to check). Else a 400 naming `models.<i>.path`: the engines open the file on the model's first request only, so
 * such a model would be stored and every call to it would fail. (Only the admin's request waits on the check.)
 */
function checkModelFile(m: ModelConfig, i: number, kind: 'gguf' | 'onnx', modelFilesDir: string | undefined): void {
  if (m.enabled === false || !m.path) return;
  const path = isAbsolute(m.path) ? m.path : resolve(modelFilesDir ?? process.cwd(), m.path);
  const refuse = (why: string): never => {
    throw new LLMError({ code: 'invalid_request', message: `models.${i}.path: ${why} (model "${m.name}", path "${m.path}")`, param: `models.${i}.path` });
  };
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) refuse(`${path} is not a file`);
    size = info.size;
  } catch (e) {
    if (LLMError.isInstance(e)) throw e;
    return refuse(`no model file at ${path}`);
  }
  if (kind === 'onnx') {
    if (size === 0) refuse(`${path} is empty, not an ONNX model`);
    return;
  }
  if (size < 4 || readHead(path) !== 'GGUF') refuse(`${path} is not a GGUF model file (it does not start with "GGUF")`);
}

/** The first 4 bytes of a file as Latin-1 ('' when they cannot be read). */
function readHead(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    return head.toString('latin1', 0, readSync(fd, head, 0, 4, 0));
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
