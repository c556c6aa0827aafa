import { z } from 'zod';
import { LLMError } from '../../errors/llm-error.js';

/** `options` of an `anthropic` model in the config. */
export const AnthropicEngineOptionsSchema = z
  .object({
    /** `countTokens` asks POST /v1/messages/count_tokens (a network call) instead of estimating locally. */
    exactTokenCount: z.boolean().default(false),
    /** The `anthropic-version` header. */
    anthropicVersion: z.string().min(1).default('2023-06-01'),
    /** Name of the forced tool that carries JSON-mode answers; change it if one of your tools has this name. */
    jsonToolName: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -')
      .default('json_answer'),
    /**
     * Send a system message that comes after the conversation started in place, as a mid-conversation
     * `{ role: "system" }` message (where its position allows), instead of joining it into the top-level
     * `system`. Default: true for Claude Opus 4.8 model ids, except on a Microsoft Foundry base URL (`*.azure.com`),
     * false otherwise (other models and platforms answer 400).
     */
    midConversationSystem: z.boolean().optional(),
    /**
     * Send strict tool use (`tools[].strict`, and a strict JSON-mode tool) where the schema fits Anthropic's strict
     * rules. Default: true for Claude Haiku / Sonnet / Opus 4.5 and later (not their Vertex AI `@` ids before 4.6),
     * false for older models (not sent, warned).
     */
    strictTools: z.boolean().optional(),
    /**
     * Whether the model takes a conversation ending with an assistant message (a prefill, which Claude continues).
     * Default: as `anthropicModelRefusesPrefill` says (false for Claude Opus / Sonnet 4.6 and later, Opus / Sonnet 5,
     * Fable and Mythos ids, which answer it with a 400; true otherwise, Claude Haiku included). False: such a request is refused before the call,
     * naming the message, and a router sends it to another deployment; true: it is sent.
     */
    prefill: z.boolean().optional(),
  })
  .strict();

export type AnthropicEngineOptions = z.output<typeof AnthropicEngineOptionsSchema>;

/** Parses a model's `options`, or throws `config_invalid` naming the bad field. */
export function parseAnthropicEngineOptions(options: unknown, deployment: string): AnthropicEngineOptions {
  const result = AnthropicEngineOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // An unknown option is named itself (zod reports it in `keys`, under the object's path).
  const keys = issue && 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]) : [];
  const path = ['options', ...(issue?.path ?? []), ...keys.slice(0, 1)].map(String).join('.');
  return fail(path, issue?.message ?? 'invalid', deployment);
}

function fail(path: string, message: string, deployment: string): never {
  throw new LLMError({
    code: 'config_invalid',
    message: `model "${deployment}" (anthropic): ${path}: ${message}`,
    param: path,
    provider: 'anthropic',
    deployment,
  });
}
