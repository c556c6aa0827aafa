import { LLMError } from '../../errors/llm-error.js';
import type { EngineRefusal } from '../../spec/engine-v1.js';
import { prefillIndex, type GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { openAIOptionPath } from './openai-option-path.js';
import { ROUTED_REFUSAL_SAID, routedRefusalIndex } from './openai-routed-model-refusal.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * How an OpenAI-compatible server continues a final assistant message (a prefill, which Anthropic's Messages API,
 * Gemini and the local engines continue): `options.prefill`, else the preset's (`vllm`: `continue_final_message`;
 * `mistral`: `prefix`; `llamacpp`: `native`). OpenAI's chat completions have no such field: OpenAI answers a final
 * assistant message with a new turn, and so does every server not told otherwise.
 * - `continue_final_message`: `continue_final_message: true` with `add_generation_prompt: false` (vLLM's and
 *   SGLang's chat-completions extra parameters, after Hugging Face's chat templates; TGI takes them too);
 * - `prefix`: `prefix: true` on the last message (Mistral, which refuses a final assistant message without it and
 *   repeats the prefill at the start of its answer, `prefillEcho`; DeepSeek's Chat Prefix Completion, a beta served at
 *   `https://api.deepseek.com/beta`: set that `baseURL`);
 * - `native`: the server continues a final assistant message by itself (llama.cpp server's default
 *   `prefill_assistant`, another llmrr gateway in front of Anthropic): sent as it is.
 * `options.prefill: "none"` turns a preset's way off (a vLLM before 0.6.3 takes no `continue_final_message`, 0.6.3 repeats the prefill): sent as
 * it is, with the warning, as without a way (`OpenAIPrefillOption`).
 * Only a request that asks for a continuation (`GenerateRequest.continueFinalMessage`, set by the gateway's
 * `/v1/messages`, and by its `/v1/chat/completions` for `continue_final_message: true`) gets the fields or, without a
 * way, the warning: elsewhere a final assistant message is sent as it
 * is, as OpenAI's chat completions take it.
 */
export type OpenAIPrefill = 'continue_final_message' | 'prefix' | 'native';

/** `options.prefill`: a way (`OpenAIPrefill`), or `none`, no way, whatever the preset says. */
export type OpenAIPrefillOption = OpenAIPrefill | 'none';

/** The index of the prefill the request asks to be continued (`continueFinalMessage`), or undefined. */
export function askedPrefillIndex(request: GenerateRequest): number | undefined {
  return request.continueFinalMessage === true ? prefillIndex(request.messages) : undefined;
}

/**
 * Asks the server to continue the request's prefill the way `endpoint.prefill` says, on the body before
 * `providerOptions` are merged (the caller's options win): nothing without an asked prefill, for `native` or without
 * a way.
 */
export function addPrefill(body: Record<string, unknown>, request: GenerateRequest, endpoint: ResolvedEndpoint): void {
  if (endpoint.prefill !== 'continue_final_message' && endpoint.prefill !== 'prefix') return;
  const at = askedPrefillIndex(request);
  if (at === undefined) return;
  if (endpoint.prefill === 'continue_final_message') {
    body.continue_final_message = true;
    body.add_generation_prompt = false;
    return;
  }
  const messages = body.messages as Array<Record<string, unknown>>;
  messages[at] = { ...messages[at], prefix: true };
}

/**
 * The warning for an asked prefill the server was not asked to continue (no `prefill` for the deployment, or
 * `options.prefill: "none"`, and the caller's `providerOptions` set neither `continue_final_message` nor the
 * messages): `setting_not_sent` naming the message. The message went out as it is; the server answers it with a new
 * turn, which the client did not ask for. (The exact cache does not keep such an answer: `answerNotAsAsked`.)
 */
export function prefillWarning(request: GenerateRequest, endpoint: ResolvedEndpoint): CallWarning | undefined {
  if (endpoint.prefill !== undefined && endpoint.prefill !== 'none') return undefined;
  const at = askedPrefillIndex(request);
  if (at === undefined) return undefined;
  if (openAIOptionPath(request, endpoint, 'continue_final_message') !== undefined || openAIOptionPath(request, endpoint, 'messages') !== undefined) return undefined;
  const why = endpoint.prefill === 'none' ? 'options.prefill is "none"' : `${endpoint.preset.label} is not known to continue it`;
  return {
    code: 'setting_not_sent',
    field: `messages.${at}`,
    message: `messages.${at} (an assistant prefill) was not continued: ${why}, so the answer is a new turn (see options.prefill).`,
  };
}

/**
 * The refusal of a conversation that ends with an assistant message the server takes only continued with
 * `prefix: true` (`ResolvedEndpoint.refusesFinalAssistant`: Mistral, whose 400 "Expected last role User or Tool (or
 * Assistant with prefix True)" the request would otherwise get), naming `messages.N`, else undefined. Nothing is
 * refused when the message goes with `prefix: true` (the request asks it continued, `continueFinalMessage`, and the
 * deployment's way is `prefix`) or when the caller's `providerOptions` set the messages. A router asks it while
 * planning (`LanguageEngineV1.refusal`): no attempt, the next deployment (one that answers such a conversation with a
 * new turn, or continues it) takes the request, and with none left it is answered `unsupported` (a 400). Where the
 * server instead refuses a final assistant message with tool calls (llama.cpp server), `finalToolCallsRefusal`.
 */
export function finalAssistantRefusal(request: GenerateRequest, endpoint: ResolvedEndpoint): EngineRefusal | undefined {
  if (!Array.isArray(request.messages)) return undefined;
  if (!endpoint.refusesFinalAssistant) return finalToolCallsRefusal(request, endpoint);
  if (openAIOptionPath(request, endpoint, 'messages') !== undefined) return undefined;
  // A Gemini or Claude model behind a router refuses any final assistant turn, however it is sent; the turn is found
  // as the native engines find it (a system message after it does not count).
  const routed = endpoint.routedRefusal;
  if (routed !== undefined) {
    const at = routedRefusalIndex(request.messages, routed.provider);
    if (at === undefined) return undefined;
    return {
      param: `messages.${at}`,
      message: `messages.${at}: ${routed.modelId} refuses a conversation that ends with an assistant message (a prefill; ${ROUTED_REFUSAL_SAID[routed.provider]}); end with a user message, or use another model`,
    };
  }
  const at = request.messages.length - 1;
  if (request.messages[at]?.role !== 'assistant') return undefined;
  if (endpoint.prefill === 'prefix' && askedPrefillIndex(request) === at) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${endpoint.preset.label} refuses a conversation that ends with an assistant message unless it is sent as a prefix (prefix: true), and this one is not: ${notPrefixReason(request, at, endpoint)}; end with a user message (or the tool results), or use another model`,
  };
}

/**
 * Why the final assistant message (`at`) is not sent as a prefix, in words true for every surface a request comes
 * from (core, the gateway's chat completions, its /v1/messages, which asks every final assistant message with text
 * to be continued): the deployment has no `prefix` way, the message has tool calls or no text (never a prefill), or
 * it is not asked to be continued (core's `continueFinalMessage`, chat completions' `continue_final_message`).
 */
function notPrefixReason(request: GenerateRequest, at: number, endpoint: ResolvedEndpoint): string {
  if (endpoint.prefill !== 'prefix') return 'this deployment does not send one as a prefix (options.prefill)';
  const last = request.messages[at] as Extract<GenerateRequest['messages'][number], { role: 'assistant' }>;
  if ((last.toolCalls?.length ?? 0) > 0) return 'it has tool calls, which cannot be continued';
  if (prefillIndex(request.messages) !== at) return 'it has no text to continue';
  return 'it is not asked to be continued (continueFinalMessage; continue_final_message: true on chat completions)';
}

/**
 * The refusal of a conversation that ends with an assistant message carrying tool calls, by a server that continues a
 * final assistant message by itself and cannot continue one with tool calls (`ResolvedEndpoint.refusesFinalToolCalls`:
 * llama.cpp server, whose 400 "Cannot continue an assistant message that contains tool calls." the request would
 * otherwise get), naming `messages.N`, else undefined. Nothing is refused when the caller's `providerOptions` set the
 * messages. A router then hands the request to its next deployment (OpenAI and most servers answer the tool calls'
 * turn with a new one), and with none left it is answered `unsupported` (a 400).
 */
function finalToolCallsRefusal(request: GenerateRequest, endpoint: ResolvedEndpoint): EngineRefusal | undefined {
  if (!endpoint.refusesFinalToolCalls) return undefined;
  const at = request.messages.length - 1;
  const last = request.messages[at];
  if (last?.role !== 'assistant' || (last.toolCalls?.length ?? 0) === 0) return undefined;
  if (openAIOptionPath(request, endpoint, 'messages') !== undefined) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${endpoint.preset.label} refuses a conversation that ends with an assistant message carrying tool calls (it continues a final assistant message, and cannot continue tool calls); give the tool results (tool messages) or end with a user message, or use another model`,
  };
}

/** `finalAssistantRefusal` thrown before the call (an engine used without a router), never the server's 400. */
export function checkFinalAssistant(request: GenerateRequest, endpoint: ResolvedEndpoint): void {
  const refusal = finalAssistantRefusal(request, endpoint);
  if (refusal) throw new LLMError({ code: 'unsupported', message: refusal.message, param: refusal.param, provider: endpoint.providerName });
}
