import { codeForHttpStatus } from '../../errors/codes.js';
import { LLMError } from '../../errors/llm-error.js';
import type { EngineRefusal } from '../../spec/engine-v1.js';
import type { ChatMessage, GenerateRequest } from '../../spec/messages.js';
import { FINAL_TURN_REFUSAL_SAID, finalTurnRefusal, readOpenAIErrorFields, type FinalTurnRefuser } from './map-openai-error.js';
import { openAIOptionPath } from './openai-option-path.js';
import { askedPrefillIndex } from './openai-prefill.js';
import { routedRefusalIndex } from './openai-routed-model-refusal.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * The message a provider's refusal of how a conversation ends (`by`) is about, when the conversation does end so, else
 * undefined: Mistral's last-role rule, the last message when it is not a user or tool one; Google's and Anthropic's,
 * the assistant turn the provider receives last, as the native engines find it (`routedRefusalIndex`: system messages
 * after it do not count).
 */
function refusedIndex(messages: readonly ChatMessage[], by: FinalTurnRefuser): number | undefined {
  if (by !== 'mistral') return routedRefusalIndex(messages, by);
  const at = messages.length - 1;
  const role = messages[at]?.role;
  return role === undefined || role === 'user' || role === 'tool' ? undefined : at;
}

/**
 * A provider's 400 refusing a conversation for how it ends (`finalTurnRefusal`: Mistral's "Expected last role User or
 * Tool ...", Google's "Requests ending with a model turn are not supported.", Anthropic's "This model does not support
 * assistant message prefill", at the start of the provider's message as the server or a router in front of it sends
 * it; `unsupported` by `codeForOpenAIError`), answering `request`: the error naming that message (`messages.N`), in the
 * provider's words, else undefined. The way a server's refusal that the engine does not foresee shows (a system
 * message after the assistant's; a server not configured as Mistral's, `refusesFinalAssistant` unset; a router's model
 * id the tables do not know, such as a moving alias); `latch`: whose refusal it was, for the engine to refuse such
 * requests before the call from then on (`lastRoleRefusal`; only when the refused message was an assistant one,
 * `refusedAssistant`). When the caller's `providerOptions` set the messages, the
 * error names that option (`providerOptions.<key>.messages`), not the request's messages, and does not latch (they were
 * not the ones sent). When the request does not end as the sentence says (`refusedIndex`), the 400 is not that
 * refusal: it is the status's (`invalid_request`), and does not latch.
 */
export function openAILastRoleError(e: unknown, request: GenerateRequest, endpoint: ResolvedEndpoint): { error: LLMError; latch?: FinalTurnRefuser } | undefined {
  if (!LLMError.isInstance(e) || e.code !== 'unsupported' || e.upstreamStatus !== 400 || !Array.isArray(request.messages)) return undefined;
  const refused = finalTurnRefusal(readOpenAIErrorFields(e.details));
  if (refused === undefined) return undefined;
  // A router's own message ("Provider returned error") is followed by the provider's words.
  const message = e.message.includes(refused.message) ? e.message : `${e.message}: ${refused.message}`;
  const own = openAIOptionPath(request, endpoint, 'messages');
  if (own !== undefined) return { error: e.with({ param: own, message: `${own}: ${message}` }) };
  const at = refusedIndex(request.messages, refused.by);
  if (at === undefined) return { error: e.with({ code: codeForHttpStatus(400) }) };
  const error = e.with({ param: `messages.${at}`, message: `messages.${at}: ${message}` });
  return refusedAssistant(request.messages, at, refused) ? { error, latch: refused.by } : { error };
}

/**
 * Whether the refused message (`at`) was an assistant one, so that the refusal may be remembered for every later
 * request: Google's and Anthropic's refusals are of the assistant turn alone; Mistral's, when the request's last message
 * is the assistant's or the sentence says so ("... but got assistant"). Mistral's refusal of a final system message
 * says nothing of a final assistant one (a router in front of it may send that one with `prefix: true`), so one
 * caller's conversation ending with a system message does not make the deployment refuse other callers' prefills.
 */
function refusedAssistant(messages: readonly ChatMessage[], at: number, refused: { by: FinalTurnRefuser; message: string }): boolean {
  return refused.by !== 'mistral' || messages[at]?.role === 'assistant' || /\bbut got assistant\b/i.test(refused.message);
}

/**
 * Once the server refused a conversation for how it ends (`openAILastRoleError`, `by` whose refusal): the refusal of
 * such a conversation, naming its message and quoting the provider's fixed sentence (`FINAL_TURN_REFUSAL_SAID`), else
 * undefined. Mistral's: one that ends with a message other than a user or tool one, or an assistant one sent with
 * `prefix: true` (asked continued on a `prefix` deployment); Google's and Anthropic's: one whose last turn is the
 * assistant's (`routedRefusalIndex`). Undefined when the caller's `providerOptions` set the messages.
 */
export function lastRoleRefusal(request: GenerateRequest, endpoint: ResolvedEndpoint, by: FinalTurnRefuser): EngineRefusal | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  const at = refusedIndex(request.messages, by);
  if (at === undefined) return undefined;
  const role = request.messages[at]!.role;
  if (by === 'mistral' && role === 'assistant' && endpoint.prefill === 'prefix' && askedPrefillIndex(request) === at) return undefined;
  if (openAIOptionPath(request, endpoint, 'messages') !== undefined) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${endpoint.preset.label} refuses a conversation that ends with ${role === 'assistant' ? 'an' : 'a'} ${role} message ("${FINAL_TURN_REFUSAL_SAID[by]}"); end with a user message, or use another model`,
  };
}
