import { LLMError } from '../../errors/llm-error.js';
import type { EngineRefusal } from '../../spec/engine-v1.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { finalTurnRefusalSaid, readOpenAIErrorFields } from './map-openai-error.js';
import { openAIOptionPath } from './openai-option-path.js';
import { askedPrefillIndex } from './openai-prefill.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * A provider's 400 refusing a conversation for how it ends (`finalTurnRefusalSaid`: Mistral's "Expected last role User
 * or Tool ...", Google's "Requests ending with a model turn are not supported.", Anthropic's "This model does not
 * support assistant message prefill", as the server or a router in front of it sends them; `unsupported` by
 * `codeForOpenAIError`), answering `request`: the error naming that message (`messages.N`), in the provider's words,
 * else undefined. The way a server's refusal that the engine does not foresee shows (a system message after the
 * assistant's; a server not configured as Mistral's, `refusesFinalAssistant` unset; a router's model id the tables do
 * not know, such as a moving alias); `latch`: the engine then refuses such requests before the call
 * (`lastRoleRefusal`), quoting `said`. When the caller's `providerOptions` set the messages, the error names that
 * option (`providerOptions.<key>.messages`), not the request's messages, and does not latch (they were not the ones
 * sent).
 */
export function openAILastRoleError(e: unknown, request: GenerateRequest, endpoint: ResolvedEndpoint): { error: LLMError; latch: boolean; said: string } | undefined {
  if (!LLMError.isInstance(e) || e.code !== 'unsupported' || e.upstreamStatus !== 400 || !Array.isArray(request.messages)) return undefined;
  const said = finalTurnRefusalSaid(readOpenAIErrorFields(e.details));
  if (said === undefined) return undefined;
  // A router's own message ("Provider returned error") is followed by the provider's words.
  const message = e.message.includes(said) ? e.message : `${e.message}: ${said}`;
  const own = openAIOptionPath(request, endpoint, 'messages');
  if (own !== undefined) return { error: e.with({ param: own, message: `${own}: ${message}` }), latch: false, said };
  const at = request.messages.length - 1;
  return { error: e.with({ param: `messages.${at}`, message: `messages.${at}: ${message}` }), latch: true, said };
}

/**
 * Once the server refused a conversation for how it ends (`openAILastRoleError`, whose words `said` quotes): the
 * refusal of a conversation that ends with a message other than a user or tool one, or an assistant one sent with
 * `prefix: true` (asked continued on a `prefix` deployment), naming it; undefined when the caller's `providerOptions`
 * set the messages.
 */
export function lastRoleRefusal(request: GenerateRequest, endpoint: ResolvedEndpoint, said: string): EngineRefusal | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  const at = request.messages.length - 1;
  const role = request.messages[at]?.role;
  if (role === undefined || role === 'user' || role === 'tool') return undefined;
  if (role === 'assistant' && endpoint.prefill === 'prefix' && askedPrefillIndex(request) === at) return undefined;
  if (openAIOptionPath(request, endpoint, 'messages') !== undefined) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${endpoint.preset.label} refuses a conversation that ends with ${role === 'assistant' ? 'an' : 'a'} ${role} message ("${said}"); end with a user message, or use another model`,
  };
}
