import { z } from 'zod';
import {
  BalancedWeightsSchema,
  CacheSchema,
  CascadeSchema,
  CircuitBreakerSchema,
  ExactCacheSchema,
  HedgingSchema,
  LimitsSchema,
  ModelConfigSchema,
  PriceSchema,
  PromptCacheAffinitySchema,
  RetrySchema,
  RouterConfigSchema,
  RouterConfigV2Schema,
  RouterConfigV3Schema,
  RoutingSchema,
  TenantConfigSchema,
  TimeoutsSchema,
} from './schema.js';

/** Where the generated schema is checked in, relative to the package root. */
export const CONFIG_JSON_SCHEMA_FILE = 'schema/llmrr.config.schema.json';

type Meta = { id?: string; title?: string; description?: string };

/** Named definitions (`$defs`) and editor tooltips. Kept here so schema.ts stays the one source of rules. */
function registry(): z.core.$ZodRegistry<Meta> {
  const r = z.registry<Meta>();
  const def = (schema: z.ZodType, id: string, description: string) => r.add(schema, { id, description });
  const doc = (shape: Record<string, z.ZodType>, descriptions: Record<string, string>) => {
    for (const [key, description] of Object.entries(descriptions)) {
      const field = shape[key];
      if (field) r.add(field, { description });
    }
  };
  def(RouterConfigV2Schema, 'RouterConfigV2', 'Version 2 config: models, routing, cache.');
  def(RouterConfigV3Schema, 'RouterConfigV3', 'Version 3 config: version 2 plus tenants.');
  def(ModelConfigSchema, 'ModelConfig', 'One deployment: a model behind an engine.');
  def(PriceSchema, 'Price', 'USD per one million tokens.');
  def(LimitsSchema, 'Limits', 'Rate limits.');
  def(TimeoutsSchema, 'Timeouts', 'Timeouts in milliseconds.');
  def(RoutingSchema, 'Routing', 'How requests are routed, retried and failed over.');
  def(RetrySchema, 'Retry', 'Retries per deployment, with exponential backoff.');
  def(CircuitBreakerSchema, 'CircuitBreaker', 'Per-deployment circuit breaker.');
  def(HedgingSchema, 'Hedging', 'Speculative second attempts when the first is slow.');
  def(BalancedWeightsSchema, 'BalancedWeights', 'Weights of the `balanced` strategy.');
  def(CascadeSchema, 'Cascade', 'A virtual model: calls `weak` first and `strong` only when the verifier scores the weak answer at or above `threshold`.');
  def(CacheSchema, 'Cache', 'Answer caches.');
  def(ExactCacheSchema, 'ExactCache', 'Exact-match answer cache (same request, tenant and model set).');
  def(TenantConfigSchema, 'Tenant', 'A tenant (v3).');
  doc(ModelConfigSchema.shape, {
    name: 'Unique deployment name; what callers ask for with `model`.',
    engine: 'Engine kind: openai-compatible, anthropic, gemini, gguf, onnx, mock, or a registered custom engine.',
    model: "The provider's model id; defaults to `name`.",
    preset: 'openai-compatible provider preset (openai, groq, ollama, ...).',
    baseURL: 'API base URL (overrides the preset).',
    apiKey: 'API key. Prefer `apiKeyEnv` or "${ENV_VAR}" so keys stay out of files.',
    apiKeyEnv: 'Name of the environment variable holding the API key.',
    headers: 'Extra HTTP headers sent with every call.',
    path: 'Local model file (gguf, onnx); relative paths resolve against `modelsDir`.',
    priority: 'Lower is tried first (priority/fallback strategies).',
    weight: 'Relative share for the `weighted` strategy.',
    price: 'Price override; default from the shipped price table (local engines cost 0).',
    capabilities: 'What the deployment can do; requests needing more skip it.',
    quality: 'Static quality score in [0,1] until learned.',
    contextWindow: 'Context window in tokens (default from the price table where known).',
    maxOutputTokens: 'Most output tokens per call.',
    region: 'Region label, for region-restricted calls.',
    tags: 'Free labels.',
    alias: 'Logical model group: deployments sharing an alias serve requests for it.',
    options: 'Engine-specific options.',
    enabled: 'false keeps the deployment out of routing.',
  });
  doc(RoutingSchema.shape, {
    strategy: 'Strategy name: balanced, quality-first, cost-optimized, speed-priority, priority, fallback, weighted, random, round-robin, least-loaded, capability-match, adaptive, or a custom one.',
    clientStrategies: 'Strategies a gateway client may ask for per request (x-llmrr-strategy, llmrr.strategy): true (default) any, false none, or a list of names.',
    fallbacks: 'Deployments tried after the ranked candidates fail: a list, or lists per requested model.',
    fallbackToRanked: 'Try the other ranked candidates before `fallbacks`.',
    batchConcurrency: 'Most concurrent calls in `batch`.',
    options: 'Strategy-specific options, by strategy name.',
    cascades: 'Cascades: virtual models callers select by name, answered by a weak model unless a verifier flags its answer.',
    promptCacheAffinity: 'Requests with cache marks or a promptCacheKey prefer the deployment that served their cached prefix last (among deployments of the chosen model).',
  });
  doc(PromptCacheAffinitySchema.shape, {
    enabled: 'Turn prompt-cache affinity on (default) or off.',
    ttlMs: 'How long a 5-minute mark\'s prefix (or a promptCacheKey) is remembered after its last use, in milliseconds.',
    ttl1hMs: 'How long a 1-hour mark\'s prefix is remembered after its last use, in milliseconds.',
    maxEntries: 'Most keys kept in process (least recently used forgotten first).',
  });
  doc(CascadeSchema.shape, {
    name: 'The virtual model name callers ask for with `model` (not a model name or alias).',
    weak: 'Model (name or alias) called first, on every request.',
    strong: 'Model (name or alias) called when the weak answer scores at or above `threshold`.',
    verifier: '`arithmetic` or `learned` (built in) or a verifier passed in the router option `verifiers`.',
    verifierModel: 'With verifier `learned` (required then, refused otherwise): the scorer file written by `llmrr router train --cascade`, relative to the models base dir.',
    threshold: 'Escalate when the score is >= this. Default for arithmetic: 1; for learned: the scorer file\'s suggested threshold; required for custom verifiers.',
    onStrongFailure: '`error`: a failed strong call fails the request; `weak`: return the weak answer, marked.',
  });
  doc(ExactCacheSchema.shape, {
    enabled: 'Turn the exact cache on.',
    maxEntries: 'Most entries kept (least recently used evicted first).',
    ttlMs: 'Entry lifetime in milliseconds.',
    allowNonZeroTemperature: 'Also cache calls with temperature > 0.',
  });
  return r;
}

/**
 * JSON Schema (draft 2020-12) of what users write in `llmrr.config.json|yaml`: the input side of the zod
 * schema, so fields with defaults are optional. Editors use it through `"$schema"` for completion and
 * checks; the zod schema stays the authority (cross-field rules such as unique model names and known
 * fallbacks are only checked there).
 */
export function routerConfigJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(RouterConfigSchema, { io: 'input', metadata: registry(), unrepresentable: 'any' }) as Record<string, unknown>;
  // The top level allows `x-...` and `legacy` besides its own keys (`isConfigExtensionKey`, checked outside zod).
  const defs = generated['$defs'] as Record<string, Record<string, unknown>> | undefined;
  for (const id of ['RouterConfigV2', 'RouterConfigV3']) {
    const def = defs?.[id];
    if (!def) continue;
    def['properties'] = { ...(def['properties'] as object), legacy: { description: 'What llmrr-migrate kept of a v1 config; ignored by the router.' } };
    def['patternProperties'] = { '^x-': { description: 'A key of your own (a YAML anchor\'s shared part, notes); ignored by the router.' } };
    def['additionalProperties'] = false;
  }
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'LLM-Runner-Router config (llmrr.config.json / .yaml)',
    description: 'Config of @llmrr/core: models (deployments), routing, cache; version 3 adds tenants. Generated from the zod schema by `pnpm --filter @llmrr/core schema`.',
    ...rest,
  };
}

/** The schema as the checked-in file holds it: 2-space JSON with a final newline. */
export function routerConfigJsonSchemaText(): string {
  return `${JSON.stringify(routerConfigJsonSchema(), null, 2)}\n`;
}
