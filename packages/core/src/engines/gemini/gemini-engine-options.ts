import { z } from 'zod';
import { LLMError } from '../../errors/llm-error.js';

/** `options` of a `gemini` model in the config. */
export const GeminiEngineOptionsSchema = z
  .object({
    /** `countTokens` asks :countTokens (a network call) instead of estimating locally. */
    exactTokenCount: z.boolean().default(false),
    /** Model used by `embed` (e.g. `gemini-embedding-001`); defaults to the model itself. */
    embeddingModel: z.string().min(1).optional(),
    /** `outputDimensionality` of embeddings (models that support truncation). */
    embeddingDimensions: z.number().int().positive().optional(),
    /** API version path segment. */
    apiVersion: z.string().regex(/^v\d+[a-z0-9]*$/, 'like v1beta or v1').default('v1beta'),
    /** Thought signatures remembered per engine for multi-turn tool calls of thinking models. */
    thoughtSignatureCacheSize: z.number().int().min(0).default(1_000),
    /**
     * Download the prompt's image URLs from any address. Default false: a URL whose host is, or resolves to, a
     * loopback, private, link-local (cloud metadata) or other non-public address is refused with `invalid_request`.
     */
    allowPrivateImageUrls: z.boolean().default(false),
    /**
     * How an image URL with a host name is downloaded once its addresses are checked: `pinned` (default) connects to
     * the checked addresses (DNS rebinding cannot redirect it), not through the engine's `fetch`; `fetch` goes through
     * the engine's `fetch` (an egress proxy's), which resolves the name again (the proxy then refuses private ones).
     */
    imageFetch: z.enum(['pinned', 'fetch']).default('pinned'),
    /**
     * Whether the model takes a request ending with an assistant turn (a `model` turn, which Gemini continues as a
     * prefill). Default: as `geminiRefusesModelTurn` says (false for Gemini 3.6 Flash, 3.5 Flash-Lite and later
     * releases, which answer it with a 400; true otherwise). False: such a request is refused before the call, naming
     * the message, and a router sends it to another deployment; true: it is sent.
     */
    prefill: z.boolean().optional(),
  })
  .strict();

export type GeminiEngineOptions = z.output<typeof GeminiEngineOptionsSchema>;

/** Parses a model's `options`, or throws `config_invalid` naming the bad field. */
export function parseGeminiEngineOptions(options: unknown, deployment: string): GeminiEngineOptions {
  const result = GeminiEngineOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // An unknown option is named itself (zod reports it in `keys`, under the object's path).
  const keys = issue && 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]) : [];
  const path = ['options', ...(issue?.path ?? []), ...keys.slice(0, 1)].map(String).join('.');
  throw new LLMError({
    code: 'config_invalid',
    message: `model "${deployment}" (gemini): ${path}: ${issue?.message ?? 'invalid'}`,
    param: path,
    provider: 'gemini',
    deployment,
  });
}
