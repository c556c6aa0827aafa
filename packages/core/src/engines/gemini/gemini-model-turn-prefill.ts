import { LLMError } from '../../errors/llm-error.js';
import type { EngineRefusal } from '../../spec/engine-v1.js';
import type { ChatMessage } from '../../spec/messages.js';
import { providerErrorMessages, saidFirst } from '../shared/provider-error-message.js';

/**
 * The Gemini models that refuse a request whose `contents` end with a `model` turn (a prefill the engine sends for a
 * final assistant message): 400 INVALID_ARGUMENT "Requests ending with a model turn are not supported." Google's
 * guide to its latest models (ai.google.dev/gemini-api/docs/latest-model, "Prefilling model turns is no longer
 * supported") says so of Gemini 3.6 Flash (`gemini-3.6-flash`) and Gemini 3.5 Flash-Lite (`gemini-3.5-flash-lite`)
 * "and all future Gemini model releases" (as quoted in cline/cline#12521); Vertex AI's Gemini 3.6 Flash model page
 * lists it among the breaking changes. Tried with the same request (LibreChat-AI/agents#323): gemini-3.6-flash and
 * gemini-3.5-flash-lite answer 400, gemini-3.5-flash and gemini-2.5-flash 200. So: `gemini-3.5-flash-lite` (and its
 * versioned ids) and every `gemini-X.Y-...` from 3.6 on; Gemini 3.5 Flash, 3.1 Pro and older take one. Google's moving
 * aliases (`gemini-flash-latest`, ...) and other ids are not known to refuse: sent as asked (a 400 is then the
 * server's); `options.prefill` says otherwise. Ids compared without `models/`, lower case.
 */
const LISTED = /^gemini-3\.5-flash-lite(?:-|$)/;
const VERSION = /^gemini-(\d+)(?:\.(\d+))?-/;

/** True when this Gemini model id refuses a request ending with a `model` turn (see above). */
export function geminiRefusesModelTurn(modelId: string): boolean {
  const id = modelId.trim().toLowerCase().replace(/^models\//, '');
  if (LISTED.test(id)) return true;
  const v = VERSION.exec(id);
  if (!v) return false;
  const major = Number(v[1]);
  const minor = Number(v[2] ?? '0');
  return major > 3 || (major === 3 && minor >= 6);
}

/**
 * The index of the message that becomes the last `model` turn of the request's `contents`, or undefined when they end
 * with a user turn: the last message that is not a system one (those go to `systemInstruction`) nor an assistant one
 * with no text and no tool calls (converted to nothing), when it is the assistant's.
 */
export function trailingModelTurnIndex(messages: readonly ChatMessage[]): number | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'system') continue;
    if (m.role !== 'assistant') return undefined;
    if (m.content || (m.toolCalls?.length ?? 0) > 0) return i;
  }
  return undefined;
}

/**
 * A request a model that refuses a trailing `model` turn (`refuses`) cannot take: its last turn the assistant's (a
 * prefill, continued or not), naming that message, else undefined. A router asks it while planning
 * (`LanguageEngineV1.refusal`): no attempt, the next deployment takes the request (Anthropic and older Gemini models
 * continue it; an OpenAI-compatible one answers it or continues it as it can), and with none left it is answered
 * `unsupported` (a 400).
 */
export function geminiModelTurnRefusal(request: { messages?: unknown }, modelId: string, refuses: boolean): EngineRefusal | undefined {
  if (!refuses || !Array.isArray(request.messages)) return undefined;
  const at = trailingModelTurnIndex(request.messages as ChatMessage[]);
  if (at === undefined) return undefined;
  return {
    param: `messages.${at}`,
    message: `messages.${at}: ${modelId} refuses a conversation that ends with an assistant turn (a prefill; Google: "Prefilling model turns is no longer supported"); end with a user message, or use another model`,
  };
}

/**
 * Google's answer to a request ending with a `model` turn from a model that refuses one: 400 INVALID_ARGUMENT
 * "Requests ending with a model turn are not supported." (the API gives no reason code for it, only the message; the
 * guide's wording, "Prefilling model turns is no longer supported", is matched too).
 */
const MODEL_TURN_REFUSED = /^(?:requests? ending with a model turn|prefilling model turns is no longer supported)/i;

/**
 * Whether Google's own message (the body's `error.message`, or Google's body after LiteLLM's exact prefix) starts
 * with `MODEL_TURN_REFUSED`. Only at the start: a 400 may quote the caller's words (a tool's name, a schema's
 * property), so a request could otherwise carry the sentence into an error about something else and latch the
 * deployment for every tenant (found in the review of 4ee8038 for the OpenAI-wire engines).
 */
function googleRefusedModelTurn(e: LLMError): boolean {
  const body: unknown = Array.isArray(e.details) ? e.details[0] : e.details;
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' && saidFirst(providerErrorMessages(message), MODEL_TURN_REFUSED) !== undefined;
}

/**
 * Gemini's 400 refusing a trailing `model` turn (`MODEL_TURN_REFUSED`) for `request`, which ends with one, as
 * `unsupported` naming that message (a router tries the next deployment, no strike), else undefined. How a model the
 * table does not know (an alias such as `gemini-flash-latest`, a tuned model) shows that it refuses; the engine then
 * refuses such requests before the call (`GeminiEngine.refusal`).
 */
export function geminiModelTurnError(e: unknown, request: { messages?: unknown }, modelId: string): LLMError | undefined {
  if (!LLMError.isInstance(e) || e.upstreamStatus !== 400 || !googleRefusedModelTurn(e) || !Array.isArray(request.messages)) return undefined;
  const at = trailingModelTurnIndex(request.messages as ChatMessage[]);
  if (at === undefined) return undefined;
  return e.with({
    code: 'unsupported',
    param: `messages.${at}`,
    message: `messages.${at}: ${modelId} refused a conversation that ends with an assistant turn (a prefill): ${e.message}; end with a user message, or use another model`,
    isRetryable: false,
  });
}

/** `geminiModelTurnRefusal` thrown before the call (an engine used without a router), never the server's 400. */
export function checkGeminiModelTurn(request: { messages?: unknown }, modelId: string, refuses: boolean, context: { provider: string; deployment?: string }): void {
  const refusal = geminiModelTurnRefusal(request, modelId, refuses);
  if (refusal) throw new LLMError({ code: 'unsupported', message: refusal.message, param: refusal.param, ...context });
}
