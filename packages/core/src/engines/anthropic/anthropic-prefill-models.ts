import { LLMError } from '../../errors/llm-error.js';
import { normalizeModelId } from '../../pricing/model-id.js';
import type { EngineRefusal } from '../../spec/engine-v1.js';
import type { ChatMessage, GenerateRequest } from '../../spec/messages.js';
import { providerErrorMessages, saidFirst } from '../shared/provider-error-message.js';
import { isSentAssistantTurn } from './anthropic-assistant-turn.js';

/**
 * Claude models that refuse a conversation ending with an assistant message (a prefill, or any final assistant turn):
 * 400 invalid_request_error "This model does not support assistant message prefill. The conversation must end with a
 * user message." Anthropic's migration guide (platform.claude.com/docs/en/about-claude/models/migration-guide,
 * "Prefill removal: Prefilling assistant messages returns a 400 error on Claude 4.6 models"; "What's new in Claude
 * 4.6", "Prefilling assistant messages (last-assistant-turn prefills) is not supported on Opus 4.6") says so of Claude
 * Opus 4.6 and Sonnet 4.6; the later models carry the 4.6 surface forward (Opus 4.7 and 4.8 are layered on it, Claude
 * Opus 5 and Sonnet 5 on 4.8 and 4.6, Claude Fable / Mythos: "No assistant prefill"; anthropics/skills
 * claude-api/shared/models.md and model-migration.md). Claude Sonnet 4.5, Opus 4.5, Haiku 4.5 and older take a
 * prefill (reports: langchain-ai/deepagents#1585, strands-agents/sdk-python#1694). No source says a Claude Haiku
 * dropped it: Haiku ids are not matched until one does (`options.prefill: false` marks such a deployment).
 *
 * Matched, once the id is normalized (`normalizeModelId`: lower case, a `provider/` path, Bedrock's `anthropic.` and
 * region prefixes, `-v1:0`, `-YYYYMMDD` and Vertex `@...` suffixes taken off, dotted versions as dashes):
 * `claude-{opus,sonnet}-4-6` and later 4.x minors, every `claude-{opus,sonnet}-N` from 5 on (`claude-opus-5`), and
 * `claude-fable-*` / `claude-mythos-*` (Mythos Preview too). So `claude-opus-4-6`, `anthropic.claude-opus-4-6-v1`,
 * `us.anthropic.claude-sonnet-4-6`, `claude-opus-4-7@20260416`, `anthropic/claude-sonnet-4.6` (OpenRouter),
 * `claude-opus-4-6-thinking` are; `claude-sonnet-4-5-20250929`, `claude-opus-4-20250514` and every `claude-haiku-*`
 * are not. Names that say no version (a proxy's own, `opus`; a moving alias, which Anthropic serves none of for Claude
 * 4.x: anthropics/anthropic-sdk-python#1447 asks for `claude-opus-latest`) are not guessed: sent as asked, the
 * server's 400 comes back `unsupported` naming the message and the engine refuses such requests before the call from
 * then on (`anthropicPrefillError`); the engine option `prefill` says so before the first call.
 */
const REFUSES_PREFILL = /^claude-(?:(?:opus|sonnet)-(?:4-(?:[6-9]|[1-9]\d)|(?:[5-9]|[1-9]\d))|fable|mythos)(?:[.-]|$)/;

/** True when this Claude model id refuses a conversation ending with an assistant message (see above). */
export function anthropicModelRefusesPrefill(modelId: string): boolean {
  return REFUSES_PREFILL.test(normalizeModelId(modelId));
}

/**
 * The index of the message that becomes the last of the request's Anthropic `messages` when it is the assistant's,
 * else undefined: the last message that is not a system one (those go to `system`, or in place after a user turn, never
 * after an assistant one) nor an assistant one the converter leaves out (`isSentAssistantTurn`, the converter's own
 * rule: no text but white space, no tool calls, no reasoning but unsigned parts, which are not sent).
 */
export function trailingAssistantIndex(messages: readonly ChatMessage[]): number | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'system') continue;
    if (m.role !== 'assistant') return undefined;
    if (isSentAssistantTurn(m)) return i;
  }
  return undefined;
}

/**
 * A request a model that refuses a prefill (`refuses`) cannot take: its converted `messages` end with the assistant's
 * turn (a prefill, continued or not, or tool calls), naming that message, else undefined. The caller's own
 * `providerOptions.anthropic.messages` are sent as they are (the server decides). A router asks it while planning
 * (`LanguageEngineV1.refusal`): no attempt, the next deployment takes the request (Claude 4.5 and older continue it,
 * an OpenAI-compatible one answers or continues it as it can), and with none left it is answered `unsupported` (a 400).
 */
export function anthropicPrefillRefusal(request: GenerateRequest, modelId: string, refuses: boolean): EngineRefusal | undefined {
  if (!refuses || !Array.isArray(request.messages)) return undefined;
  if (request.providerOptions?.anthropic?.messages !== undefined) return undefined;
  const at = trailingAssistantIndex(request.messages);
  if (at === undefined) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${modelId} refuses a conversation that ends with an assistant message (a prefill; Anthropic: "This model does not support assistant message prefill"); end with a user message, or use another model`,
  };
}

/** `anthropicPrefillRefusal` thrown before the call (an engine used without a router), never the server's 400. */
export function checkAnthropicPrefill(
  request: GenerateRequest,
  modelId: string,
  refuses: boolean,
  context: { provider: string; deployment?: string },
): void {
  const refusal = anthropicPrefillRefusal(request, modelId, refuses);
  if (refusal) throw new LLMError({ code: 'unsupported', message: refusal.message, param: refusal.param, ...context });
}

/**
 * Anthropic's 400 refusing a prefill ("This model does not support assistant message prefill. The conversation must end
 * with a user message.", `invalid_request_error`), at the start of Anthropic's message, or of the provider's message
 * after the exact prefix of a proxy speaking Anthropic's wire format (LiteLLM's `litellm.BadRequestError:
 * AnthropicException - {...}`, `providerErrorMessages`). Not elsewhere: a 400 that quotes the caller's words (a tool's
 * name or schema) may hold the sentence anywhere.
 */
const PREFILL_REFUSED = /^This model does not support assistant message prefill\b/i;

/** Anthropic's message in an error body `{ type: 'error', error: { type, message } }`, else undefined. */
function anthropicMessage(details: unknown): string | undefined {
  const error = typeof details === 'object' && details !== null ? (details as { error?: unknown }).error : undefined;
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : undefined;
}

/** True when `e` is Anthropic's 400 refusing a prefill, as Anthropic or a proxy in front of it words it. */
function isPrefillRefused(e: LLMError): boolean {
  return e.upstreamStatus === 400 && saidFirst(providerErrorMessages(anthropicMessage(e.details)), PREFILL_REFUSED) !== undefined;
}

/**
 * Anthropic's 400 refusing a prefill (`PREFILL_REFUSED`) for `request`, whose converted `messages` end with the
 * assistant's turn: `unsupported` naming that message (a router tries the next deployment, no strike), with `latch`
 * true; the caller's own `providerOptions.anthropic.messages` refused: `unsupported` naming that option, no latch (they
 * were not the request's messages). Else undefined. How a model the table does not know shows that it refuses; the
 * engine then refuses such requests before the call (`AnthropicEngine.refusal`).
 */
export function anthropicPrefillError(e: unknown, request: GenerateRequest, modelId: string): { error: LLMError; latch: boolean } | undefined {
  if (!LLMError.isInstance(e) || !isPrefillRefused(e) || !Array.isArray(request.messages)) return undefined;
  if (request.providerOptions?.anthropic?.messages !== undefined) {
    const param = 'providerOptions.anthropic.messages';
    return { error: e.with({ code: 'unsupported', param, message: `${param}: ${e.message}`, isRetryable: false }), latch: false };
  }
  const at = trailingAssistantIndex(request.messages);
  if (at === undefined) return undefined;
  return {
    error: e.with({
      code: 'unsupported',
      param: `messages.${at}`,
      message: `messages.${at}: ${modelId} refused a conversation that ends with an assistant message (a prefill): ${e.message}; end with a user message, or use another model`,
      isRetryable: false,
    }),
    latch: true,
  };
}
