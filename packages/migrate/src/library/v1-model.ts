import { CAPABILITIES, LLMError, engineFactory, redactUrl, type ModelConfig } from '@llmrr/core';
import { modelLooksV1 } from './detect-version.js';
import type { MigrationLog } from './migration-log.js';
import { resolveModelName, type ModelNameTable, type ResolvedModel } from './model-names.js';
import { isPlainObject, type Path } from './plain.js';

/** v2 model keys passed through as they are. */
const V2_MODEL_KEYS = new Set([
  'name', 'engine', 'model', 'preset', 'baseURL', 'apiKey', 'apiKeyEnv', 'headers', 'path', 'priority', 'weight',
  'price', 'capabilities', 'quality', 'contextWindow', 'maxOutputTokens', 'region', 'tags', 'limits', 'timeouts',
  'alias', 'options', 'enabled',
]);

/** v1 `format`/`type`/`provider` values and the v2 engine (and preset) they mean. */
const PROVIDERS: Readonly<Record<string, { engine: string; preset?: string }>> = {
  gguf: { engine: 'gguf' },
  ggml: { engine: 'gguf' },
  'node-llama-cpp': { engine: 'gguf' },
  onnx: { engine: 'onnx' },
  mock: { engine: 'mock' },
  anthropic: { engine: 'anthropic' },
  claude: { engine: 'anthropic' },
  gemini: { engine: 'gemini' },
  google: { engine: 'gemini' },
  openai: { engine: 'openai-compatible', preset: 'openai' },
  azure: { engine: 'openai-compatible', preset: 'azure-openai' },
  'azure-openai': { engine: 'openai-compatible', preset: 'azure-openai' },
  ollama: { engine: 'openai-compatible', preset: 'ollama' },
  groq: { engine: 'openai-compatible', preset: 'groq' },
  together: { engine: 'openai-compatible', preset: 'together' },
  'together-ai': { engine: 'openai-compatible', preset: 'together' },
  mistral: { engine: 'openai-compatible', preset: 'mistral' },
  deepseek: { engine: 'openai-compatible', preset: 'deepseek' },
  openrouter: { engine: 'openai-compatible', preset: 'openrouter' },
  vllm: { engine: 'openai-compatible', preset: 'vllm' },
  lmstudio: { engine: 'openai-compatible', preset: 'lmstudio' },
  'lm-studio': { engine: 'openai-compatible', preset: 'lmstudio' },
  llamacpp: { engine: 'openai-compatible', preset: 'llamacpp' },
  'llama.cpp': { engine: 'openai-compatible', preset: 'llamacpp' },
  'openai-compatible': { engine: 'openai-compatible' },
};

/** v1 loaders without a v2 engine: kept as the engine name, to be registered with `registerEngine`. */
const NO_ENGINE = new Set(['pytorch', 'safetensors', 'binary', 'huggingface', 'tensorflow', 'tensorflowjs', 'smollm3', 'simple', 'simple-smollm3', 'bitnet', 'transformers', 'wasm', 'webgpu']);

const BUILTIN_ENGINES = new Set(['openai-compatible', 'anthropic', 'gemini', 'gguf', 'onnx', 'mock']);

export interface V1ModelContext {
  log: MigrationLog;
  table: ModelNameTable;
  /** The v1 `preferredEngine`, used when nothing else tells the engine. */
  preferredEngine: string | undefined;
  /** The v1 top-level `maxTokens`, applied to models that set no limit. */
  maxTokens: number | undefined;
  /**
   * Some model of the list sets `priority` itself (v2 intent): then only v1-shaped models get their position as
   * priority, and a v2-shaped one keeps the default, so the order the priorities give is not changed.
   */
  listSetsPriority?: boolean;
  /**
   * Takes an option the model's engine refuses (`options.<key>` moved from `from`), so that the router still builds:
   * the caller keeps it under `legacy`. Without it, the option stays in `options`.
   */
  keepRefusedOption?: (model: string, key: string, value: unknown, from: Path) => void;
}

function engineFor(kind: string, ctx: V1ModelContext, path: Path): { engine: string; preset?: string } {
  const key = kind.toLowerCase();
  const known = PROVIDERS[key];
  if (known) return known;
  if (NO_ENGINE.has(key)) {
    ctx.log.warn(path, `"${kind}" models have no built-in engine in @llmrr/core; the model keeps engine "${key}", which needs registerEngine("${key}", factory) before the router can use it`);
    return { engine: key };
  }
  ctx.log.warn(path, `unknown provider or format "${kind}": kept as engine "${kind}" (register it with registerEngine, or set engine and preset)`);
  return { engine: kind };
}

function reportResolved(resolved: ResolvedModel, raw: string, path: Path, ctx: V1ModelContext): void {
  if (resolved.name !== raw && resolved.fromTable) ctx.log.info(path, `model "${raw}" is now called "${resolved.name}"`);
  if (resolved.engineSource === 'default') {
    ctx.log.warn(path, `cannot tell the engine of model "${raw}": using "openai-compatible" without a preset (set preset or baseURL)`);
  }
}

function preferred(ctx: V1ModelContext): { engine: string; preset?: string } | undefined {
  const p = ctx.preferredEngine;
  if (!p || p === 'auto') return undefined;
  return PROVIDERS[p.toLowerCase()] ?? { engine: p };
}

function withMaxTokens(model: Record<string, unknown>, ctx: V1ModelContext): void {
  if (ctx.maxTokens !== undefined && model.maxOutputTokens === undefined) {
    model.maxOutputTokens = ctx.maxTokens;
  }
}

/** A v1 model given as a string: a name, `mock://x`, `ollama:x`, or a model file path. */
export function convertModelString(raw: string, index: number, path: Path, ctx: V1ModelContext): Record<string, unknown> {
  let resolved = resolveModelName(raw, ctx.table);
  const pref = preferred(ctx);
  if (resolved.engineSource === 'default' && pref) {
    resolved = { ...resolved, ...pref, engineSource: 'family' };
    ctx.log.info(path, `engine of "${raw}" taken from preferredEngine "${ctx.preferredEngine}"`);
  }
  reportResolved(resolved, raw, path, ctx);
  const out: Record<string, unknown> = { name: resolved.name, engine: resolved.engine };
  if (resolved.preset) out.preset = resolved.preset;
  if (resolved.model) out.model = resolved.model;
  if (resolved.path) out.path = resolved.path;
  out.priority = index + 1;
  withMaxTokens(out, ctx);
  return out;
}

function toCapabilities(value: unknown, path: Path, ctx: V1ModelContext, options: Record<string, unknown>): string[] | undefined {
  const names = Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string')
    : isPlainObject(value)
      ? Object.entries(value).filter(([, on]) => on === true).map(([k]) => k)
      : [];
  const known = (CAPABILITIES as readonly string[]);
  const alias: Record<string, string> = { stream: 'streaming', function_calling: 'tools', functions: 'tools', functionCalling: 'tools', toolUse: 'tools', 'json-mode': 'json', jsonMode: 'json', embedding: 'embeddings', embed: 'embeddings', completions: 'completion', image: 'vision', images: 'vision' };
  const out: string[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const c = known.includes(n) ? n : alias[n];
    if (c) {
      if (!out.includes(c)) out.push(c);
    } else unknown.push(n);
  }
  if (isPlainObject(value)) {
    const off = Object.entries(value).filter(([, on]) => on !== true).map(([k]) => k);
    if (off.length) ctx.log.info(path, `capabilities set to false or non-boolean are left out: ${off.join(', ')}`);
    ctx.log.info(path, 'capabilities object turned into a list of the capabilities set to true');
  }
  if (unknown.length) {
    options.capabilities = unknown;
    ctx.log.warn(path, `unknown capabilities kept in options.capabilities: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  }
  return out.length ? out : undefined;
}

/** A v1 model object (registry entry or load spec) to a v2 model. `index` is its position (priority). */
export function convertModelObject(input: Record<string, unknown>, index: number, path: Path, ctx: V1ModelContext, to: Path = path): Record<string, unknown> {
  const { log } = ctx;
  const moved = (from: string, dest: string[]) => log.move([...path, from], [...to, ...dest]);
  const out: Record<string, unknown> = {};
  const options: Record<string, unknown> = isPlainObject(input.options) ? { ...input.options } : {};
  const str = (k: string): string | undefined => (typeof input[k] === 'string' && (input[k] as string).trim() !== '' ? (input[k] as string) : undefined);

  // The engine: explicit v2 engine, else format/type, else provider, else the source or the name.
  let engine: { engine: string; preset?: string } | undefined;
  if (str('engine')) engine = { engine: str('engine')!, ...(str('preset') ? { preset: str('preset')! } : {}) };
  for (const k of ['format', 'type', 'provider']) {
    const v = str(k);
    if (v === undefined) continue;
    const mapped = engineFor(v, ctx, [...path, k]);
    if (!engine) {
      engine = mapped;
      log.info([...path, k], `${k} "${v}" becomes engine "${mapped.engine}"${mapped.preset ? ` with preset "${mapped.preset}"` : ''}`);
    } else if (mapped.engine !== engine.engine || (mapped.preset && engine.preset && mapped.preset !== engine.preset)) {
      options[k] = v;
      log.warn([...path, k], `${k} "${v}" disagrees with engine "${engine.engine}"${engine.preset ? ` preset "${engine.preset}"` : ''}; kept in options.${k}`);
    } else {
      if (mapped.preset && !engine.preset) engine = mapped;
      log.info([...path, k], `${k} "${v}" is said by engine "${engine.engine}" in v2`);
    }
  }

  // The source: a file path, mock://, ollama:..., or a provider model id.
  const source = str('source');
  let sourceModel: ResolvedModel | undefined;
  if (source !== undefined) {
    sourceModel = resolveModelName(source, ctx.table);
    if (sourceModel.path === undefined && looksLikeFile(source)) sourceModel = { ...sourceModel, path: source, engineSource: 'default' };
    if (sourceModel.path !== undefined) {
      out.path = sourceModel.path;
      moved('source', ['path']);
      log.info([...path, 'source'], `source "${source}" becomes path`);
    } else if (sourceModel.engine === 'mock' && /^mock:/i.test(source)) {
      log.info([...path, 'source'], `source "${source}" becomes engine "mock"`);
      if (sourceModel.name !== 'mock' && str('id') === undefined && str('name') === undefined) out.name = sourceModel.name;
    } else {
      log.info([...path, 'source'], `source "${source}" becomes model "${sourceModel.name}"`);
    }
    if (!engine && sourceModel.engineSource !== 'default') engine = { engine: sourceModel.engine, ...(sourceModel.preset ? { preset: sourceModel.preset } : {}) };
  }

  // The provider's model id: `model`, else a non-path, non-mock source.
  const explicitModel = str('model') ?? (sourceModel && sourceModel.path === undefined && sourceModel.engine !== 'mock' ? sourceModel.name : undefined);
  let providerModel: string | undefined;
  if (explicitModel !== undefined) {
    const r = resolveModelName(explicitModel, ctx.table);
    providerModel = r.path === undefined && r.engine !== 'mock' ? r.name : explicitModel;
    if (providerModel !== explicitModel) log.info([...path, 'model'], `model "${explicitModel}" is now called "${providerModel}"`);
    if (!engine && r.engineSource !== 'default') engine = { engine: r.engine, ...(r.preset ? { preset: r.preset } : {}) };
  }

  // The deployment name: id, else name, else the model id; a bare model name is mapped through the table.
  const id = str('id');
  const name = str('name');
  if (id !== undefined) {
    out.name = id;
    moved('id', ['name']);
    if (name !== undefined && name !== id) {
      moved('name', ['options', 'displayName']);
      options.displayName = name;
      log.info([...path, 'name'], `v1 display name "${name}" kept in options.displayName (the v2 name is the id "${id}")`);
    }
    if (name === undefined) log.info([...path, 'id'], 'id becomes name');
  } else if (name !== undefined) out.name = name;
  if (out.name === undefined && providerModel !== undefined) out.name = providerModel;
  if (out.name === undefined && typeof out.path === 'string') out.name = sourceModel?.name;
  if (out.name === undefined && engine?.engine === 'mock') out.name = 'mock';
  if (out.name === undefined) {
    log.error(path, 'model has no id, name, model or source: a v2 model needs a name');
    out.name = `model-${index + 1}`;
  } else if (providerModel === undefined && out.path === undefined && engine?.engine !== 'mock') {
    const r = resolveModelName(out.name as string, ctx.table);
    if (r.fromTable && r.name !== out.name) {
      log.info([...path, id !== undefined ? 'id' : 'name'], `model "${String(out.name)}" is now called "${r.name}"`);
      out.name = r.name;
    }
    if (r.model && r.model !== r.name) providerModel = r.model;
    if (!engine && r.engineSource !== 'default') engine = { engine: r.engine, ...(r.preset ? { preset: r.preset } : {}) };
  }

  if (!engine) {
    const pref = preferred(ctx);
    if (pref) {
      engine = pref;
      log.info(path, `engine taken from preferredEngine "${ctx.preferredEngine}"`);
    } else if (str('baseURL') ?? str('endpoint') ?? str('baseUrl') ?? str('url') ?? str('apiUrl')) {
      engine = { engine: 'openai-compatible' };
    } else {
      engine = { engine: 'openai-compatible' };
      log.warn(path, `cannot tell the engine of model "${String(out.name)}": using "openai-compatible" without a preset (set preset or baseURL)`);
    }
  }
  out.engine = engine.engine;
  if (engine.preset) out.preset = engine.preset;
  if (providerModel !== undefined && providerModel !== out.name) out.model = providerModel;
  if (!BUILTIN_ENGINES.has(engine.engine) && !NO_ENGINE.has(engine.engine) && str('engine') !== undefined) {
    log.info([...path, 'engine'], `engine "${engine.engine}" is not built in; register it with registerEngine before creating the router`);
  }

  // Renamed fields. A v1 value that loses (its v2 spelling is also set, or it is not a number) is kept in
  // options.<key> and reported, as for unknown keys: nothing is dropped silently.
  const keepLoser = (k: string, why: string) => {
    options[k] = input[k];
    log.warn([...path, k], `${why}: kept in options.${k}`);
    moved(k, ['options', k]);
  };
  const base = str('baseURL') ?? str('endpoint') ?? str('baseUrl') ?? str('url') ?? str('apiUrl');
  if (base !== undefined) out.baseURL = base;
  for (const k of ['baseURL', 'endpoint', 'baseUrl', 'url', 'apiUrl']) {
    if (input[k] === undefined || (k === 'baseURL' && input[k] === base)) continue;
    if (base === undefined) keepLoser(k, `${k} is not a string (no key gives a string base URL)`);
    // URLs shown without user info and query string (`?api-key=`): the report must not carry a key.
    else if (input[k] !== base) keepLoser(k, `${k} ${typeof input[k] === 'string' ? `"${redactUrl(input[k])}"` : 'value'} differs from baseURL "${redactUrl(base)}", which wins`);
    else {
      log.info([...path, k], `${k} becomes baseURL`);
      moved(k, ['baseURL']);
    }
  }
  if (input.maxOutputTokens !== undefined) out.maxOutputTokens = input.maxOutputTokens;
  if (input.maxTokens !== undefined) {
    if (typeof input.maxTokens === 'number' && out.maxOutputTokens === undefined) {
      out.maxOutputTokens = input.maxTokens;
      log.info([...path, 'maxTokens'], 'maxTokens becomes maxOutputTokens');
      moved('maxTokens', ['maxOutputTokens']);
    } else keepLoser('maxTokens', out.maxOutputTokens !== undefined ? 'maxOutputTokens is also set and wins over maxTokens' : 'maxTokens is not a number');
  }
  for (const k of ['contextLength', 'contextSize', 'maxContextLength']) {
    if (input[k] === undefined) continue;
    if (typeof input[k] === 'number' && input.contextWindow === undefined && out.contextWindow === undefined) {
      out.contextWindow = input[k];
      log.info([...path, k], `${k} becomes contextWindow`);
      moved(k, ['contextWindow']);
    } else keepLoser(k, typeof input[k] !== 'number' ? `${k} is not a number` : `contextWindow is already set and wins over ${k}`);
  }
  for (const k of ['costPer1kInput', 'costPer1kOutput']) {
    if (input[k] === undefined) continue;
    if (input.price !== undefined) keepLoser(k, `price is also set and wins over ${k}`);
    else if (typeof input[k] !== 'number') keepLoser(k, `${k} is not a number`);
  }
  if (typeof input.costPer1kInput === 'number' && typeof input.costPer1kOutput === 'number' && input.price === undefined) {
    out.price = { input: input.costPer1kInput * 1000, output: input.costPer1kOutput * 1000 };
    log.info(path, 'costPer1kInput/costPer1kOutput (USD per 1k tokens) become price (USD per 1M tokens)');
  } else if (input.price === undefined) {
    // A v2 price needs both sides: never invent 0 for the missing one (that call side would cost nothing in budgets).
    for (const [k, other] of [['costPer1kInput', 'costPer1kOutput'], ['costPer1kOutput', 'costPer1kInput']] as const) {
      if (typeof input[k] === 'number' && typeof input[other] !== 'number') {
        keepLoser(k, `${k} without ${other}: no price is written (v2's price needs input and output in USD per 1M tokens; the shipped price table prices the model if it lists it)`);
      }
    }
  }
  if (input.timeout !== undefined) {
    if (typeof input.timeout === 'number' && input.timeouts === undefined) {
      out.timeouts = { totalMs: input.timeout };
      log.info([...path, 'timeout'], 'timeout becomes timeouts.totalMs');
      moved('timeout', ['timeouts', 'totalMs']);
    } else keepLoser('timeout', typeof input.timeout !== 'number' ? 'timeout is not a number' : 'timeouts is also set and wins over timeout');
  }
  if (input.capabilities !== undefined) {
    const caps = toCapabilities(input.capabilities, [...path, 'capabilities'], ctx, options);
    if (caps) out.capabilities = caps;
  }
  if (typeof input.quality === 'number' && input.quality > 1 && input.quality <= 100) {
    out.quality = input.quality / 100;
    log.info([...path, 'quality'], `quality ${input.quality} (0-100) becomes ${input.quality / 100} (0-1)`);
  }

  // Everything else: v2 keys as they are, unknown keys into options.
  const handled = new Set(['id', 'name', 'engine', 'preset', 'format', 'type', 'provider', 'source', 'model', 'endpoint', 'baseUrl', 'baseURL', 'url', 'apiUrl', 'maxTokens', 'maxOutputTokens', 'contextLength', 'contextSize', 'maxContextLength', 'costPer1kInput', 'costPer1kOutput', 'capabilities', 'options', 'timeout', 'path']);
  for (const [k, v] of Object.entries(input)) {
    if (handled.has(k) || (k === 'quality' && out.quality !== undefined)) continue;
    if (V2_MODEL_KEYS.has(k)) out[k] = v;
    else {
      options[k] = v;
      log.warn([...path, k], `"${k}" is not a v2 model field: kept in options.${k} (engines read their own options)`);
      moved(k, ['options', k]);
    }
  }
  if (typeof input.path === 'string') out.path = input.path;
  // v1 tried models in list order: a model gets its position as priority, unless it is in v2 shape in a list
  // where models set their own priorities (a v2 config carrying a stray v1 key must not be reordered).
  if (out.priority === undefined && (!ctx.listSetsPriority || modelLooksV1(input))) out.priority = index + 1;
  if (out.engine === 'mock' && str('model') === undefined && typeof out.model === 'string') delete out.model;
  withMaxTokens(out, ctx);
  if (ctx.keepRefusedOption) {
    for (const [key, { value, why }] of Object.entries(refusedOptions(out, options))) {
      // Where the v1 config had it: the display name, its own options, or an unknown model key.
      const from = key === 'displayName' && id !== undefined && name !== undefined && name !== id ? [...path, 'name'] : isPlainObject(input.options) && Object.hasOwn(input.options, key) ? [...path, 'options', key] : [...path, key];
      const dest = `legacy.modelOptions.${String(out.name)}.${key}`;
      log.warn(from, `engine "${String(out.engine)}" refuses options.${key} (${why}): kept under ${dest} instead (the router ignores it)`);
      const i = log.moves.findIndex((m) => m.to.join('.') === [...to, 'options', key].join('.'));
      if (i >= 0) log.moves.splice(i, 1);
      ctx.keepRefusedOption(String(out.name), key, value, from);
    }
  }
  if (Object.keys(options).length) out.options = options;
  return ordered(out);
}

/**
 * The options `model`'s engine refuses, taken out of `options`: a built-in engine's `checkConfig` (Anthropic, Gemini,
 * GGUF, ONNX and mock read only their own option names) refuses the whole config when the router is built, so a v1 key
 * kept in `options` (a display name, an unknown key) would stop the migrated config from building.
 */
function refusedOptions(model: Record<string, unknown>, options: Record<string, unknown>): Record<string, { value: unknown; why: string }> {
  const refused: Record<string, { value: unknown; why: string }> = {};
  const factory = typeof model.engine === 'string' ? engineFactory(model.engine) : undefined;
  if (typeof factory?.checkConfig !== 'function') return refused;
  // One key at a time (an engine names the first refused one), at most once per key.
  for (let n = Object.keys(options).length; n >= 0; n--) {
    try {
      factory.checkConfig({ ...model, options } as unknown as ModelConfig);
      break;
    } catch (e) {
      // The refused key as the error names it (`options.<key>`, the key may hold dots): the longest option key it names.
      const param = LLMError.isInstance(e) && e.code === 'config_invalid' ? (e.param ?? '') : '';
      const key = Object.keys(options)
        .filter((k) => param === `options.${k}` || param.startsWith(`options.${k}.`))
        .sort((a, b) => b.length - a.length)[0];
      if (key === undefined) break;
      const message = (e as Error).message.replace(/^.*options\.[^:]*: /, '');
      refused[key] = { value: options[key], why: /^Unrecognized key/.test(message) ? 'not an option it reads' : message };
      delete options[key];
    }
  }
  return refused;
}

/** A local file reference: a relative or absolute path, or a name with a model-file extension. */
function looksLikeFile(ref: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(ref) || /\.(pt|pth|bin|safetensors|ggml|onnx|gguf|tflite|pb)$/i.test(ref);
}

const KEY_ORDER = ['name', 'engine', 'preset', 'model', 'path', 'baseURL', 'apiKey', 'apiKeyEnv', 'headers', 'priority', 'weight'];

/** The usual key order (name, engine, preset, model, path, ...), then the rest as they came. */
function ordered(model: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (model[k] !== undefined) out[k] = model[k];
  for (const [k, v] of Object.entries(model)) if (!(k in out)) out[k] = v;
  return out;
}
