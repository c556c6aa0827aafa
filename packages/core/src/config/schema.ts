import { z } from 'zod';
import { PredictiveCacheSchema } from '../semantic-cache/predictive/predictive-config.js';
import { reservedMessage, reservedNameFields, ROUTING_MODEL_NAMES } from './routing-names.js';

/** Engine kinds built into core. Custom engines registered with `registerEngine` use their own names. */
export const BUILTIN_ENGINES = ['openai-compatible', 'anthropic', 'gemini', 'gguf', 'onnx', 'mock'] as const;

export const CAPABILITIES = ['chat', 'streaming', 'tools', 'json', 'vision', 'embeddings', 'reasoning', 'completion'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const positiveInt = z.number().int().positive();
/** A delay a timer is set with: at most 2^31 - 1 ms (about 24.8 days), as a longer one fires after 1 ms. */
const TIMER_MAX = { message: 'at most 2147483647 ms (a timer fires a longer delay at once)' } as const;
const timerMs = z.number().int().max(2_147_483_647, TIMER_MAX);
const nonNegative = z.number().nonnegative();

/** A price's rates, USD per one million tokens: the base price's, and each long-context tier's. */
const PriceRates = {
  /** USD per one million input tokens. */
  input: nonNegative,
  /** USD per one million output tokens. */
  output: nonNegative,
  /** USD per one million cached input tokens, i.e. prompt-cache reads (defaults to `input`). */
  cachedInput: nonNegative.optional(),
  /** USD per one million prompt-cache write tokens with the default 5-minute TTL (defaults to `input`; Anthropic: 1.25x input). */
  cacheWrite: nonNegative.optional(),
  /** USD per one million prompt-cache write tokens with the 1-hour TTL (defaults to `cacheWrite`, then `input`; Anthropic: 2x input). */
  cacheWrite1h: nonNegative.optional(),
  /** USD per one million reasoning output tokens (part of the output; defaults to `output`). */
  reasoningOutput: nonNegative.optional(),
};

export const PriceSchema = z
  .object({
    ...PriceRates,
    /**
     * Long-context prices: a call whose prompt is above a tier's `threshold` tokens is charged in whole at the rates
     * of the highest such tier; a cache or reasoning rate a tier does not give is the base price's. Distinct thresholds.
     */
    longContext: z
      .array(z.object({ threshold: positiveInt, ...PriceRates }).strict())
      .refine((tiers) => new Set(tiers.map((t) => t.threshold)).size === tiers.length, { message: 'long-context thresholds must be distinct' })
      .optional(),
  })
  .strict();

export const LimitsSchema = z
  .object({
    rpm: positiveInt.optional(),
    tpm: positiveInt.optional(),
    maxConcurrency: positiveInt.optional(),
  })
  .strict();

export const TimeoutsSchema = z
  .object({
    /** Time allowed until the first token (streaming) or the whole answer's headers (non-streaming). */
    firstTokenMs: timerMs.positive().optional(),
    /** Time allowed for the whole call, per attempt. */
    totalMs: timerMs.positive().optional(),
    /**
     * Streams: how long the router waits for the consumer to ask for the next part before it abandons the
     * stream, cancels the upstream request and frees the attempt (0: never). Unset: 60000, unless `totalMs` is set.
     */
    consumerIdleMs: timerMs.nonnegative().optional(),
  })
  .strict();

/** A lone UTF-16 surrogate: a string no encoder can write (URIs, headers, UTF-8 all refuse it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a base URL with a user name or password is refused (the message does not quote the URL). */
export const BASE_URL_USER_INFO =
  'must not carry a user name or password (user:password@): send basic auth as an Authorization header in `headers`';

/** Whether a URL carries a user name or password (`https://user:pw@host`); false for one that does not parse. */
export function hasUserInfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

/**
 * Most characters in an `apiKey` or `headers` value (64 KiB): above any real token (an Azure AD token with many claims
 * can pass 8 KiB; Node servers take 16 KiB of headers by default) and still a bound on the linear check below.
 */
const HEADER_VALUE_MAX = 65_536;

/** Whether a character code is HTTP whitespace, which fetch trims from both ends of a header value (tab, LF, CR, space). */
function isHttpWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Whether fetch can send `value` as an HTTP header value: once leading and trailing whitespace is trimmed (a secret's
 * final newline too: fetch sends the value without), only tab, U+0020-U+007E and U+0080-U+00FF - undici's rule, which
 * refuses CR, LF, NUL and every other control character (U+0001-U+001F but tab, U+007F) and anything above U+00FF
 * (headers are Latin-1). One pass, linear in the length (a value may come from an admin request).
 */
function isValidHeaderValue(value: string): boolean {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || c === 0x7f || (c < 0x20 && c !== 0x09)) return false;
  }
  return true;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Why an `apiKey` or `headers` value is refused: fetch would refuse the header at every call, with an error quoting
 * the value (the key) in clear. The message never quotes the value.
 */
const BAD_HEADER_VALUE_MESSAGE =
  'must not contain a line break (CR, LF), NUL or another control character inside it, nor a character above U+00FF (it is sent as an HTTP header value)';

/** `apiKey` and `headers` values: sendable as an HTTP header, refused without quoting the value otherwise. */
const headerValueSchema = () =>
  z
    .string()
    .max(HEADER_VALUE_MAX, { message: `must be at most ${HEADER_VALUE_MAX} characters (it is sent as an HTTP header value)` })
    .refine(isValidHeaderValue, BAD_HEADER_VALUE_MESSAGE);

/** A model, alias or cascade name: non-empty, valid Unicode (a new schema each time: each field has its own description). */
const nameSchema = () =>
  z
    .string()
    .min(1)
    .refine((v) => !LONE_SURROGATE.test(v), 'must be valid Unicode (it has a lone surrogate)');

export const ModelConfigSchema = z
  .object({
    /** Unique deployment name; what users ask for with `model`. */
    name: nameSchema(),
    engine: z.string().min(1).default('openai-compatible'),
    /** The provider's model id; defaults to `name`. */
    model: z.string().min(1).optional(),
    /** For `openai-compatible`: a provider preset (`openai`, `groq`, `ollama`, ...). */
    preset: z.string().min(1).optional(),
    /** Without a user name or password (an error would quote them; basic auth goes in `headers`). */
    baseURL: z
      .url()
      .refine((v) => !hasUserInfo(v), BASE_URL_USER_INFO)
      .optional(),
    /** Sent as an HTTP header: no CR, LF, NUL or character above U+00FF (refused without quoting it). */
    apiKey: headerValueSchema().optional(),
    /** Name of the environment variable that holds the API key. */
    apiKeyEnv: z.string().optional(),
    /** Extra HTTP headers: names are tokens, values as `apiKey`'s. */
    headers: z.record(z.string().regex(HEADER_NAME, 'must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)'), headerValueSchema()).optional(),
    /** Path of a local model file (gguf, onnx). */
    path: z.string().optional(),
    /** Lower is tried first (1 before 2). */
    priority: z.number().int().default(100),
    weight: z.number().nonnegative().default(1),
    price: PriceSchema.optional(),
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
    /** Static quality score in [0,1], used by `quality-first` and `balanced` until learned. */
    quality: z.number().min(0).max(1).optional(),
    contextWindow: positiveInt.optional(),
    maxOutputTokens: positiveInt.optional(),
    region: z.string().optional(),
    tags: z.array(z.string()).default([]),
    limits: LimitsSchema.optional(),
    timeouts: TimeoutsSchema.optional(),
    /** Logical model group: deployments sharing an `alias` serve requests for that alias. */
    alias: nameSchema().optional(),
    /** Engine-specific options (gguf `threads`, `contextSize`; onnx `tokenizer`; mock `reply`...). */
    options: z.record(z.string(), z.unknown()).default({}),
    enabled: z.boolean().default(true),
  })
  .strict();

export const RetrySchema = z
  .object({
    /** Retries per deployment after the first attempt. */
    max: z.number().int().min(0).max(10).default(2),
    initialDelayMs: nonNegative.max(2_147_483_647, TIMER_MAX).default(250),
    maxDelayMs: nonNegative.max(2_147_483_647, TIMER_MAX).default(8_000),
    factor: z.number().min(1).default(2),
    jitter: z.boolean().default(true),
    /** Wait what the provider's Retry-After says (up to `maxRetryAfterMs`) instead of the backoff. */
    respectRetryAfter: z.boolean().default(true),
    /** A Retry-After longer than this moves on to the next deployment instead of waiting. */
    maxRetryAfterMs: nonNegative.max(2_147_483_647, TIMER_MAX).default(30_000),
  })
  .strict();

export const CircuitBreakerSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Consecutive failures that open the circuit. */
    failureThreshold: positiveInt.default(5),
    /** How long an open circuit refuses calls before letting probes through (half-open). */
    cooldownMs: positiveInt.default(30_000),
    /** Probes allowed at once while half-open, when another deployment can take the rest (with none, it is tried anyway). */
    halfOpenMaxProbes: positiveInt.default(1),
    /** Successful probes needed to close again. */
    successThreshold: positiveInt.default(1),
  })
  .strict();

export const HedgingSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Start a second attempt on the next candidate if the first has not produced a first token by then. */
    delayMs: timerMs.positive().default(2_000),
    maxHedges: z.number().int().min(1).max(3).default(1),
  })
  .strict();

export const BalancedWeightsSchema = z
  .object({
    quality: nonNegative.default(0.4),
    cost: nonNegative.default(0.3),
    latency: nonNegative.default(0.3),
  })
  .strict();

/** What a cascade does when the strong call fails after escalation: fail the call, or return the weak answer (marked). */
export const CASCADE_STRONG_FAILURE_POLICIES = ['error', 'weak'] as const;

/**
 * A cascade: a virtual model that calls `weak` first, scores its complete answer with `verifier`, and calls
 * `strong` only when the score is at or above `threshold` (higher score = the weak answer looks wrong).
 * Clients select it by its `name`, like a model.
 */
export const CascadeSchema = z
  .object({
    /** The virtual model's name: what clients ask for with `model` (must not be a model name or alias). */
    name: nameSchema(),
    /** Deployment name or alias called first, on every request. */
    weak: z.string().min(1),
    /** Deployment name or alias called when the weak answer scores at or above `threshold`. */
    strong: z.string().min(1),
    /** `arithmetic` or `learned` (built in), or the name of a verifier given in the router option `verifiers`. */
    verifier: z.string().min(1).default('arithmetic'),
    /** With `verifier: 'learned'` (required then, refused otherwise): the scorer file of `llmrr router train --cascade`, relative to the models base dir. */
    verifierModel: z.string().min(1).optional(),
    /** Escalate when the verifier's score is >= this. Default for `arithmetic`: 1; for `learned`: the scorer file's suggested threshold; required for custom verifiers. */
    threshold: z.number().optional(),
    /** The strong call failed after escalation: `error` (default) fails the call; `weak` returns the weak answer, marked in `cascade.strongError`. */
    onStrongFailure: z.enum(CASCADE_STRONG_FAILURE_POLICIES).default('error'),
    description: z.string().optional(),
  })
  .strict();

/**
 * Prompt-cache affinity: a request carrying cache marks or a `promptCacheKey` prefers the deployment that
 * served the same cached prefix (or key) last, among the deployments of the model the strategy chose.
 * Provider prompt caches are per deployment (account, org, region): spreading a conversation's turns pays
 * a cache write on each switch instead of a read. Requests without marks or key are not touched.
 */
export const PromptCacheAffinitySchema = z
  .object({
    enabled: z.boolean().default(true),
    /** How long a 5-minute mark's prefix (and a `promptCacheKey`) is remembered after its last use. */
    ttlMs: positiveInt.default(300_000),
    /** How long a `ttl: '1h'` mark's prefix is remembered after its last use. */
    ttl1hMs: positiveInt.default(3_600_000),
    /** Most keys remembered per router process (least recently used forgotten first). */
    maxEntries: positiveInt.default(10_000),
  })
  .strict();

export const RoutingSchema = z
  .object({
    strategy: z.string().min(1).default('balanced'),
    /**
     * Which strategies a gateway client may ask for per request (`x-llmrr-strategy`, `llmrr.strategy`, the legacy
     * endpoints' `strategy`): `true` (default) any the router has, `false` none (every call uses the operator's
     * `strategy` or the tenant's preferred one), or a list of names. Another is a 400 `invalid_request` naming the field.
     * Library callers (`generate({ strategy })`) are not limited.
     */
    clientStrategies: z.union([z.boolean(), z.array(z.string().min(1))]).default(true),
    /** Deployment names tried after the ranked candidates fail; or per requested model. */
    fallbacks: z.union([z.array(z.string()), z.record(z.string(), z.array(z.string()))]).default([]),
    /** Try the other ranked candidates when the first choice fails (before `fallbacks`). */
    fallbackToRanked: z.boolean().default(true),
    retries: RetrySchema.default(RetrySchema.parse({})),
    timeouts: TimeoutsSchema.default({}),
    circuitBreaker: CircuitBreakerSchema.default(CircuitBreakerSchema.parse({})),
    hedging: HedgingSchema.default(HedgingSchema.parse({})),
    weights: BalancedWeightsSchema.default(BalancedWeightsSchema.parse({})),
    /** Max concurrent calls in `batch`. */
    batchConcurrency: positiveInt.default(4),
    /** Strategy-specific options, by strategy name. */
    options: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    /** Virtual models that call a weak model first and a strong one only when a verifier flags the weak answer. */
    cascades: z.array(CascadeSchema).optional(),
    /** Requests sharing a cached prompt prefix go to the same deployment (see `PromptCacheAffinitySchema`). */
    promptCacheAffinity: PromptCacheAffinitySchema.default(PromptCacheAffinitySchema.parse({})),
  })
  .strict();

export const ExactCacheSchema = z
  .object({
    enabled: z.boolean().default(false),
    maxEntries: positiveInt.default(1_000),
    /**
     * Bound on the in-process store's total size in bytes (each entry's text, reasoning, tool calls and log
     * probabilities, estimated without serialising it): past it the least recently used go first, and an answer
     * larger on its own is not stored. The memory store only (as `maxEntries`). Default 64 MB.
     */
    maxSizeBytes: positiveInt.default(64_000_000),
    ttlMs: positiveInt.default(3_600_000),
    /** Cache answers to calls with temperature > 0 too (off: those are never cached). */
    allowNonZeroTemperature: z.boolean().default(false),
  })
  .strict();

/** Where semantic-cache entries live: in process (default), a SQLite file, or a Redis shared by processes. */
export const SemanticStoreSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('memory') }).strict(),
  z.object({ type: z.literal('sqlite'), path: z.string().min(1) }).strict(),
  z.object({ type: z.literal('redis'), url: z.string().min(1), prefix: z.string().min(1).default('llmrr') }).strict(),
]);

export const SemanticCacheSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Cosine similarity at or above which a stored prompt counts as the same question. */
    threshold: z.number().min(0).max(1).default(0.85),
    /**
     * Optional guard band: matches at or above the threshold but below `guardAbove` go through `guard`. Unset (default):
     * no band, every unambiguous match at or above the threshold is served. Ambiguous matches (see `minMargin`) always
     * go through `guard`.
     */
    guardAbove: z.number().min(0).max(1).optional(),
    /**
     * How the best stored question is chosen among the `candidates` nearest by cosine. `hybrid` (default): by
     * (1 - lexicalWeight) * cosine + lexicalWeight * character-trigram Dice of the two questions; `cosine`: by cosine alone.
     * The threshold always applies to the cosine of the chosen question.
     */
    scoring: z.enum(['hybrid', 'cosine']).default('hybrid'),
    /** Weight of the lexical (character-trigram Dice) similarity in the `hybrid` score. */
    lexicalWeight: z.number().min(0).max(1).default(0.4),
    /**
     * Ambiguity rule: the chosen question must beat the runner-up (the best candidate with a different text) by at least
     * this much in the ranking score, else the match is ambiguous and goes to `guard` (a miss by default). 0 disables it.
     */
    minMargin: z.number().min(0).max(1).default(0.015),
    /** Nearest stored questions (by cosine) re-ranked and compared for the ambiguity rule. */
    candidates: positiveInt.max(64).default(8),
    /** `miss`: treat such matches as misses; `verify`: ask a cheap model whether the answer fits; `adapt`: have it rewrite the answer. */
    guard: z.enum(['miss', 'verify', 'adapt']).default('miss'),
    /** Deployment the guard calls (`verify`/`adapt`). */
    guardModel: z.string().min(1).optional(),
    /** `local-use` (Universal Sentence Encoder lite, in process) or the name of a deployment whose engine embeds. */
    embedder: z.string().min(1).default('local-use'),
    store: SemanticStoreSchema.default({ type: 'memory' }),
    ttlMs: positiveInt.default(86_400_000),
    maxEntries: positiveInt.default(10_000),
    /**
     * Bound on the bytes the entries held in process take (each entry's question, answer as `cache.exact.maxSizeBytes`
     * counts it, user key and vector): past it the least recently used go first, and an entry larger on its own is
     * not stored. The memory and SQLite stores (the Redis store keeps only vectors in process). Default 64 MB.
     */
    maxSizeBytes: positiveInt.default(64_000_000),
    allowNonZeroTemperature: z.boolean().default(false),
    /** Store answers that compliance rules redacted (off: such answers are never cached). */
    allowRedacted: z.boolean().default(false),
    /** Tenants whose requests never use the semantic cache. */
    optOutTenants: z.array(z.string()).default([]),
    /** Per-tenant threshold overrides. */
    tenantThresholds: z.record(z.string(), z.number().min(0).max(1)).default({}),
  })
  .strict();

export const CacheSchema = z
  .object({
    exact: ExactCacheSchema.default(ExactCacheSchema.parse({})),
    semantic: SemanticCacheSchema.optional(),
    predictive: PredictiveCacheSchema.optional(),
  })
  .strict();

export const TenantConfigSchema = z
  .object({
    /** Not only dots: `.` and `..` are URL dot segments, so no admin API path could name the tenant. */
    id: z
      .string()
      .min(1)
      .refine((v) => !/^\.+$/.test(v), 'must not be only dots ("." and ".." cannot be named in a URL path)'),
    name: z.string().optional(),
    tier: z.enum(['basic', 'pro', 'enterprise']).default('basic'),
    /** Deployment names or aliases this tenant may use; absent means all. */
    allowedModels: z.array(z.string()).optional(),
    /**
     * Preferred strategy and other preferences. `clientStrategies`: which strategies the tenant's gateway clients may
     * ask for (as `routing.clientStrategies`, which it replaces for the tenant).
     */
    preferences: z
      .object({ strategy: z.string().optional(), clientStrategies: z.union([z.boolean(), z.array(z.string().min(1))]).optional() })
      .catchall(z.unknown())
      .default({}),
    limits: LimitsSchema.optional(),
    budget: z
      .object({ amountUsd: nonNegative, period: z.enum(['day', 'week', 'month', 'total']).default('month') })
      .strict()
      .optional(),
    /** Models only this tenant sees. */
    models: z.array(ModelConfigSchema).default([]),
  })
  .strict();

const baseConfigShape = {
  $schema: z.string().optional(),
  models: z.array(ModelConfigSchema).min(1, 'at least one model is required'),
  routing: RoutingSchema.default(RoutingSchema.parse({})),
  cache: CacheSchema.default(CacheSchema.parse({})),
  /** Where to look for local model files given by relative `path`. */
  modelsDir: z.string().optional(),
};

export const RouterConfigV2Schema = z
  .object({ version: z.literal(2).default(2), ...baseConfigShape })
  .catchall(z.unknown())
  .superRefine(checkUniqueNames)
  .superRefine(checkNoTenants);

export const RouterConfigV3Schema = z
  .object({
    version: z.literal(3),
    ...baseConfigShape,
    tenants: z.array(TenantConfigSchema).min(1, 'a v3 config names at least one tenant'),
    /** The tenant used when a call names none (v3 calls should always name one). */
    defaultTenant: z.string().optional(),
  })
  .catchall(z.unknown())
  .superRefine(checkUniqueNames)
  .superRefine(checkTenants);

/** v2 or v3, chosen by `version` (absent means 2). */
export const RouterConfigSchema = z.union([RouterConfigV3Schema, RouterConfigV2Schema]);

function checkUniqueNames(
  cfg: {
    models: Array<{ name: string }>;
    routing: { fallbacks: string[] | Record<string, string[]>; cascades?: Array<{ name: string; weak: string; strong: string }> | undefined };
    cache: { semantic?: { enabled: boolean; embedder: string; guardModel?: string | undefined } | undefined };
  },
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  cfg.models.forEach((m, i) => {
    if (seen.has(m.name)) ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: `duplicate model name "${m.name}"` });
    seen.add(m.name);
  });
  checkRoutingNames(cfg.models, ['models'], ctx);
  (cfg.routing.cascades ?? []).forEach((c, i) => {
    if (ROUTING_MODEL_NAMES.includes(c.name)) ctx.addIssue({ code: 'custom', path: ['routing', 'cascades', i, 'name'], message: reservedMessage(c.name) });
  });
  const known = new Set(cfg.models.flatMap((m) => [m.name, (m as { alias?: string }).alias].filter((x): x is string => !!x)));
  const check = (names: string[], path: (string | number)[]) =>
    names.forEach((n, i) => {
      if (!known.has(n)) ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown model "${n}" (not in models)` });
    });
  // The names a fallback list holds are checked; a map's key is not: it may name a model that joins at run time (a
  // tenant's own model handed to setTenant, a model added with load()).
  const fb = cfg.routing.fallbacks;
  if (Array.isArray(fb)) check(fb, ['routing', 'fallbacks']);
  else for (const [k, v] of Object.entries(fb)) check(v, ['routing', 'fallbacks', k]);
  checkCascades(cfg.routing.cascades ?? [], known, ctx);
  checkSemanticCacheModels(cfg, known, ctx);
}

/**
 * An enabled semantic cache's `embedder` (other than `local-use`) names a deployment of `models` that may embed (its
 * configured `capabilities`, when listed, include `embeddings`; the router checks the engine's own when it is
 * built), and its `guardModel` a model name, alias or cascade: the cache is built on first use, where a name that
 * matches nothing, or a model that cannot embed, would make every lookup a miss (reported only as a `cache:error`
 * event).
 */
function checkSemanticCacheModels(
  cfg: {
    models: Array<{ name: string; capabilities?: readonly string[] | undefined }>;
    routing: { cascades?: Array<{ name: string }> | undefined };
    cache: { semantic?: { enabled: boolean; embedder: string; guardModel?: string | undefined } | undefined };
  },
  known: ReadonlySet<string>,
  ctx: z.RefinementCtx,
): void {
  const semantic = cfg.cache.semantic;
  if (!semantic?.enabled) return;
  const at = (field: string) => ['cache', 'semantic', field];
  if (semantic.embedder !== 'local-use') {
    const embedder = cfg.models.find((m) => m.name === semantic.embedder);
    if (!embedder) {
      ctx.addIssue({ code: 'custom', path: at('embedder'), message: `no deployment named "${semantic.embedder}" in models (use "local-use" or a model's name)` });
    } else if (embedder.capabilities && !embedder.capabilities.includes('embeddings')) {
      ctx.addIssue({ code: 'custom', path: at('embedder'), message: `deployment "${semantic.embedder}" cannot embed (its capabilities lack embeddings): name an embedding model or "local-use"` });
    }
  }
  const guardModel = semantic.guardModel;
  if (guardModel !== undefined && !known.has(guardModel) && !(cfg.routing.cascades ?? []).some((c) => c.name === guardModel)) {
    ctx.addIssue({ code: 'custom', path: at('guardModel'), message: `unknown model "${guardModel}" (not a model name, alias or cascade)` });
  }
}

/**
 * `tenants` and `defaultTenant` are v3 settings: in a config without `version: 3` the router would ignore them
 * (no allow-lists, no budgets, no tenant models), so they are refused, naming the missing version.
 */
function checkNoTenants(cfg: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const key of ['tenants', 'defaultTenant']) {
    if (cfg[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} needs "version: 3" (without it the config is v2, where ${key} would be ignored)` });
  }
}

/**
 * Tenant ids unique (the router would keep only the last entry of an id). `defaultTenant` and `allowedModels`
 * are not checked against the config: a router built with `unknownTenant: 'shared'` serves a `defaultTenant`
 * that is not listed, `setTenant` may add it later, and `load()` may add the models an allow-list names (every
 * tenant view is rebuilt then); a name that matches nothing refuses the call that needs it, naming it.
 */
function checkTenants(cfg: { tenants: TenantConfig[] }, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  cfg.tenants.forEach((t, i) => {
    checkRoutingNames(t.models, ['tenants', i, 'models'], ctx);
    if (ids.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'id'], message: `duplicate tenant id "${t.id}"` });
    ids.add(t.id);
  });
}

export { ROUTING_MODEL_NAMES, reservedMessage, reservedNameFields };

/** No model named or aliased like a routing name (`ROUTING_MODEL_NAMES`). */
function checkRoutingNames(models: ReadonlyArray<{ name: string; alias?: string | undefined }>, at: (string | number)[], ctx: z.RefinementCtx): void {
  models.forEach((m, i) => {
    for (const field of reservedNameFields(m)) ctx.addIssue({ code: 'custom', path: [...at, i, field], message: reservedMessage(m[field]!) });
  });
}

/** Cascade names unique and unlike any model name or alias; `weak` and `strong` name models (two different ones). */
function checkCascades(cascades: Array<{ name: string; weak: string; strong: string }>, known: ReadonlySet<string>, ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  cascades.forEach((c, i) => {
    const at = (field: string) => ['routing', 'cascades', i, field];
    if (known.has(c.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `cascade name "${c.name}" is already a model name or alias` });
    else if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate cascade name "${c.name}"` });
    names.add(c.name);
    if (!known.has(c.weak)) ctx.addIssue({ code: 'custom', path: at('weak'), message: `unknown model "${c.weak}" (not a model name or alias in models)` });
    if (!known.has(c.strong)) ctx.addIssue({ code: 'custom', path: at('strong'), message: `unknown model "${c.strong}" (not a model name or alias in models)` });
    if (c.weak === c.strong) ctx.addIssue({ code: 'custom', path: at('strong'), message: `strong must differ from weak (both "${c.weak}")` });
  });
}

export type ModelConfig = z.output<typeof ModelConfigSchema>;
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;
export type RoutingConfig = z.output<typeof RoutingSchema>;
export type RetryConfig = z.output<typeof RetrySchema>;
export type CircuitBreakerConfig = z.output<typeof CircuitBreakerSchema>;
export type HedgingConfig = z.output<typeof HedgingSchema>;
export type TimeoutsConfig = z.output<typeof TimeoutsSchema>;
export type CascadeConfig = z.output<typeof CascadeSchema>;
export type PromptCacheAffinityConfig = z.output<typeof PromptCacheAffinitySchema>;
export type CascadeConfigInput = z.input<typeof CascadeSchema>;
export type ExactCacheConfig = z.output<typeof ExactCacheSchema>;
export type SemanticCacheConfig = z.output<typeof SemanticCacheSchema>;
export type SemanticCacheConfigInput = z.input<typeof SemanticCacheSchema>;
export type SemanticStoreConfig = z.output<typeof SemanticStoreSchema>;
export type TenantConfig = z.output<typeof TenantConfigSchema>;
/** A tenant as users write it (defaults optional), e.g. for `LLMRouter.setTenant`. */
export type TenantConfigInput = z.input<typeof TenantConfigSchema>;
export type RouterConfigV2 = z.output<typeof RouterConfigV2Schema>;
export type RouterConfigV3 = z.output<typeof RouterConfigV3Schema>;
export type RouterConfig = RouterConfigV2 | RouterConfigV3;
/** What users write (defaults optional). */
export type RouterConfigInput = z.input<typeof RouterConfigSchema>;
