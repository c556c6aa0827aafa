import { LLMError } from '../../errors/llm-error.js';
import type { EngineRefusal } from '../../spec/engine-v1.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { MISTRAL_LAST_ROLE, readOpenAIErrorFields } from './map-openai-error.js';
import { openAIOptionPath } from './openai-option-path.js';
import { askedPrefillIndex } from './openai-prefill.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * Mistral's 400 for the role of a conversation's last message (`MISTRAL_LAST_ROLE`, `unsupported` by
 * `codeForOpenAIError`), answering `request`: the error naming that message (`messages.N`), else undefined. The way a
 * server's refusal that the engine does not foresee shows (a system message after the assistant's; a server not
 * configured as Mistral's, `refusesFinalAssistant` unset); `latch`: the engine then refuses such requests before the
 * call (`lastRoleRefusal`). When the caller's `providerOptions` set the messages, the error names that option
 * (`providerOptions.<key>.messages`), not the request's messages, and does not latch (they were not the ones sent).
 */
export function openAILastRoleError(e: unknown, request: GenerateRequest, endpoint: ResolvedEndpoint): { error: LLMError; latch: boolean } | undefined {
  if (!LLMError.isInstance(e) || e.code !== 'unsupported' || e.upstreamStatus !== 400 || !Array.isArray(request.messages)) return undefined;
  const said = readOpenAIErrorFields(e.details).message;
  if (said === undefined || !MISTRAL_LAST_ROLE.test(said)) return undefined;
  const own = openAIOptionPath(request, endpoint, 'messages');
  if (own !== undefined) return { error: e.with({ param: own, message: `${own}: ${e.message}` }), latch: false };
  const at = request.messages.length - 1;
  return { error: e.with({ param: `messages.${at}`, message: `messages.${at}: ${e.message}` }), latch: true };
}

/**
 * Once the server refused a conversation's last role (`openAILastRoleError`): the refusal of a conversation that ends
 * with a message other than a user or tool one, or an assistant one sent with `prefix: true` (asked continued on a
 * `prefix` deployment), naming it; undefined when the caller's `providerOptions` set the messages.
 */
export function lastRoleRefusal(request: GenerateRequest, endpoint: ResolvedEndpoint): EngineRefusal | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  const at = request.messages.length - 1;
  const role = request.messages[at]?.role;
  if (role === undefined || role === 'user' || role === 'tool') return undefined;
  if (role === 'assistant' && endpoint.prefill === 'prefix' && askedPrefillIndex(request) === at) return undefined;
  if (openAIOptionPath(request, endpoint, 'messages') !== undefined) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${endpoint.preset.label} refuses a conversation that ends with ${role === 'assistant' ? 'an' : 'a'} ${role} message ("Expected last role User or Tool (or Assistant with prefix True)"); end with a user message, or use another model`,
  };
}
