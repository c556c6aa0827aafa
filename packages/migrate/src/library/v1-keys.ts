/**
 * Top-level keys of the original `llm-runner-router` config (its `Config` defaults, its docs, and the
 * seed's `{ models: [...], strategy }`) that have no place in a v2 config. They are kept under
 * `legacy` (a top-level key the schema allows, as it does `x-...` keys) and reported with the reason.
 */
export const V1_LEGACY_ONLY_KEYS: Readonly<Record<string, string>> = {
  environment: 'set NODE_ENV instead; the router does not read it from the config',
  logLevel: 'the router logs through events; configure your logger instead',
  maxConcurrency: 'there is no global limit in v2; set models[].limits.maxConcurrency per model',
  modelRegistry: 'v2 lists models in the config itself',
  modelCache: 'local models load from modelsDir or models[].path',
  maxModels: 'v2 has no limit on the number of models',
  autoLoad: 'v2 creates engines on first use',
  autoInit: 'v2 needs no initialization step',
  preferredEngine: 'v2 names the engine per model (used here to guess engines)',
  fallbackEngine: 'v2 names the engine per model; use routing.fallbacks for fallback models',
  enableStreaming: 'streaming is always available in v2 (router.stream)',
  enableQuantization: 'quantization is a property of the model file in v2',
  validateModels: 'v2 validates the config when the router is created',
  sandboxExecution: 'v2 has no sandbox setting',
  apiPort: 'the HTTP gateway (@llmrr/gateway) takes its port from the PORT environment variable',
  apiHost: 'the HTTP gateway (@llmrr/gateway) takes its host from the HOST environment variable',
  corsEnabled: 'configure CORS in the HTTP gateway',
  errorHandler: 'v2 reports errors as typed LLMError values and router events',
  database: 'v2 keeps state in stores configured outside the router config',
  debug: 'the router logs through events; subscribe to them (router.on) for debug output',
  verbose: 'the router logs through events; subscribe to them (router.on) for debug output',
};

/** Top-level keys the v1 migration turns into v2 fields. */
export const V1_MAPPED_KEYS = [
  'version',
  'models',
  'strategy',
  'routingStrategy',
  'fallbackModels',
  'fallbacks',
  'fallbackEnabled',
  'enableFallback',
  'timeout',
  'retries',
  'maxRetries',
  'retryDelay',
  'cacheTTL',
  'cacheTtl',
  'enableCaching',
  'cacheEnabled',
  'cacheSize',
  'maxCacheSize',
  'maxTokens',
  'weights',
] as const;

/** Keys whose presence at the top level says "this is a v1 config". */
export const V1_SIGNAL_KEYS: readonly string[] = [
  ...V1_MAPPED_KEYS.filter((k) => k !== 'version' && k !== 'models' && k !== 'weights'),
  ...Object.keys(V1_LEGACY_ONLY_KEYS),
];

/** Model-object keys of v1 (registry entries, `router.load(spec)` specs) that v2 spells differently. */
export const V1_MODEL_KEYS = [
  'id',
  'source',
  'format',
  'type',
  'provider',
  'endpoint',
  'baseUrl',
  'url',
  'apiUrl',
  'maxTokens',
  'contextLength',
  'contextSize',
  'maxContextLength',
  'costPer1kInput',
  'costPer1kOutput',
  'timeout',
] as const;
