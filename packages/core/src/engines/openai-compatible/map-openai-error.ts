import { codeForHttpStatus, type LLMErrorCode } from '../../errors/codes.js';
import { LLMError } from '../../errors/llm-error.js';
import { errorFromResponse, type ProviderErrorInfo } from '../../util/http.js';
import { providerErrorMessages, saidFirst } from '../shared/provider-error-message.js';

/** The OpenAI error body: `{ error: { message, type, code, param } }`. Servers vary; all fields optional. */
export interface OpenAIErrorFields {
  message?: string;
  type?: string;
  code?: string;
  param?: string;
  /**
   * The upstream provider's own error body, as a router in front of it passes it on: OpenRouter's
   * `error.metadata.raw` (`{ error: { message: "Provider returned error", code: 400, metadata: { raw, provider_name } } }`).
   */
  raw?: string;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/**
 * Reads the error fields from the bodies OpenAI-compatible servers send: `{error:{...}}` (OpenAI, Groq,
 * Ollama, llama.cpp), `{error:"text"}`, `{message, type, code}` (vLLM), `{detail}` (FastAPI servers).
 */
export function readOpenAIErrorFields(body: unknown): OpenAIErrorFields {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const inner = b.error;
  if (typeof inner === 'string') return { message: inner };
  const source = typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : b;
  let message = str(source.message);
  if (message === undefined && typeof b.detail === 'string') message = b.detail;
  if (message === undefined && Array.isArray(b.detail)) message = JSON.stringify(b.detail);
  const metadata = source.metadata;
  const raw = typeof metadata === 'object' && metadata !== null ? str((metadata as Record<string, unknown>).raw) : undefined;
  return { message, type: str(source.type), code: str(source.code), param: str(source.param), ...(raw !== undefined ? { raw } : {}) };
}

/** OpenRouter's 404 when no provider behind the model serves what the request asks. */
const NO_ENDPOINT_SUPPORTS = /^No endpoints found that support\b/i;
/**
 * A 404 whose words say the model (or an Azure deployment, which stands for it) is unknown: vLLM's "The model `x` does
 * not exist", Ollama's `model "x" not found`, Fireworks' "Model not found, inaccessible, and/or not deployed", Azure's
 * "The API deployment for this resource does not exist". A 404 for a wrong path names neither (a `models` that is a
 * segment of a URL path, as in "The requested URL /v1/models/chat/completions was not found", is no model).
 */
const MODEL_UNKNOWN = /^The model `[^`]*` does not exist|^model ["'`][^"'`]*["'`] not found\b|(?<!\/)\b(?:model|deployment)s?\b(?!\/)[^.]{0,80}?\b(?:not found|does not exist|doesn't exist)\b/i;
/** Whose 400 refused a conversation for how it ends (`finalTurnRefusal`). */
export type FinalTurnRefuser = 'mistral' | 'google' | 'anthropic';

/**
 * A provider's 400 refusing a conversation for how it ends (this deployment cannot take the conversation as it ends,
 * another may), by the provider's fixed sentence at the start of its own message:
 * - Mistral: "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant"
 *   (`invalid_request_error`, no code of its own), for a last message that is not a user or tool one, nor an
 *   assistant one sent with `prefix: true`;
 * - Google (Gemini 3.6 Flash, 3.5 Flash-Lite and later, `gemini-model-turn-prefill.ts`): "Requests ending with a model
 *   turn are not supported." (400 INVALID_ARGUMENT);
 * - Anthropic (Claude Opus/Sonnet 4.6 and later, `anthropic-prefill-models.ts`): "This model does not support
 *   assistant message prefill. The conversation must end with a user message." (400 `invalid_request_error`).
 */
const FINAL_TURN_REFUSED: ReadonlyArray<readonly [FinalTurnRefuser, RegExp]> = [
  ['mistral', /^Expected last role User or Tool\b/i],
  ['google', /^Requests? ending with a model turn (?:are|is) not supported\b/i],
  ['anthropic', /^This model does not support assistant message prefill\b/i],
];

/** The fixed sentence a latched refusal quotes (`lastRoleRefusal`), never the words a server sent after it. */
export const FINAL_TURN_REFUSAL_SAID: Readonly<Record<FinalTurnRefuser, string>> = {
  mistral: 'Expected last role User or Tool (or Assistant with prefix True)',
  google: 'Requests ending with a model turn are not supported.',
  anthropic: 'This model does not support assistant message prefill.',
};

/**
 * A provider's refusal of a conversation for how it ends (`FINAL_TURN_REFUSED`), where a router in front of it puts
 * its words (`providerErrorMessages`): at the start of the error's message, of the provider's message after LiteLLM's
 * `litellm.BadRequestError: <Provider>Exception - `, or of the message in OpenRouter's `error.metadata.raw` (the
 * provider's body). Not when the sentence is elsewhere (a 400 quoting the caller's words: OpenAI's strict-schema 400
 * names a property the caller chose), nor when the body names a `param` other than the messages. `message`: the
 * provider's message that starts with it (for the caller of this request only; a latched refusal quotes
 * `FINAL_TURN_REFUSAL_SAID`).
 */
export function finalTurnRefusal(fields: OpenAIErrorFields): { by: FinalTurnRefuser; message: string } | undefined {
  const messages = providerErrorMessages(fields.message, fields.param, fields.raw);
  for (const [by, sentence] of FINAL_TURN_REFUSED) {
    const said = saidFirst(messages, sentence);
    if (said) return { by, message: said.message };
  }
  return undefined;
}

/**
 * A `param` from inside a router's wrapping that may be passed on to the caller: a field path (`messages.2.content`,
 * `tools[0].function.parameters`, `stream`, or a field a deployment's `providerOptions` merged into the body, such as
 * OpenRouter's `reasoning`), no spaces. Not one the caller cannot have sent on chat completions: a provider behind a
 * router can pass on OpenAI's Responses-API body (`param: "input"`, for a chat request), or put a sentence there
 * ("messages[2] assistant content must contain at least one part").
 */
const PARAM_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[\d+\])*$/;
/** The longest such param passed on (a path the request could name is far shorter). */
const MAX_PARAM_LENGTH = 256;
const RESPONSES_ONLY_PARAM = /^(?:input|instructions|text|previous_response_id|include|max_output_tokens|truncation|background|conversation|max_tool_calls)(?:[.[]|$)/;

/**
 * The `param` the provider named when a router's own body names none: the one in OpenRouter's `error.metadata.raw`
 * or in the body after LiteLLM's prefix (OpenAI's strict-schema 400 names `tools[0].function.parameters`), when it
 * names a field path the caller may have sent (`PARAM_PATH`: names, `.name`, `[N]` only, at most `MAX_PARAM_LENGTH`;
 * not `RESPONSES_ONLY_PARAM`), else undefined.
 */
export function providerParam(fields: OpenAIErrorFields): string | undefined {
  if (fields.param !== undefined) return fields.param;
  const inner = providerErrorMessages(fields.message, undefined, fields.raw).find((m) => m.param !== undefined)?.param;
  return inner !== undefined && inner.length <= MAX_PARAM_LENGTH && PARAM_PATH.test(inner) && !RESPONSES_ONLY_PARAM.test(inner) ? inner : undefined;
}
/** DeepSeek's 400 for a model id it does not have (`invalid_request_error`, no code of its own). */
const DEEPSEEK_MODEL_NOT_EXIST = /^Model Not Exist\.?$/i;

/**
 * A more specific code than the HTTP status gives, from the provider's `code`/`type` (and, for some, its message).
 * `provider_model_not_found` (the deployment's model id is wrong: falls over, never the caller's fault) only when the
 * provider says the model is unknown: `code: model_not_found`; a 404 with Azure's `DeploymentNotFound`, `param: model`
 * (Fireworks) or words naming the model or deployment as not found (vLLM, Ollama, Fireworks, Azure); the unknown-model
 * answers some providers send as a 400 (DeepSeek "Model Not Exist", Mistral `type: invalid_model`, Together
 * `code: model_not_available`). `unsupported` for OpenRouter's 404 "No endpoints found that support ..." and a
 * provider's 400 refusing the conversation for how it ends (`finalTurnRefusal`: Mistral's "Expected last role User
 * or Tool ...", Google's and Anthropic's refusal of a final assistant turn, wrapped by a router or not). Else
 * undefined (the status decides: `provider_error`, `codeForHttpStatus`).
 */
export function codeForOpenAIError(fields: OpenAIErrorFields, status: number | undefined): LLMErrorCode | undefined {
  switch (fields.code) {
    case 'context_length_exceeded':
      return 'context_length_exceeded';
    case 'content_filter':
    case 'content_policy_violation':
      return 'content_filter';
    // "The model `x` does not exist or you do not have access to it": the deployment's model id, not the caller's.
    case 'model_not_found':
    // Together: a model it serves only on a dedicated endpoint (a 400 "Unable to access non-serverless model x").
    case 'model_not_available':
      return 'provider_model_not_found';
    case 'invalid_api_key':
      return 'authentication';
    case 'rate_limit_exceeded':
      return 'rate_limited';
    // The account is out of credit (OpenAI sends it as a 429): the account's billing state, as Anthropic's
    // `billing_error` and Gemini's depleted prepayment are; waiting does not help, another deployment might.
    case 'insufficient_quota':
      return 'budget_exceeded';
  }
  // An organisation not verified for the model: the account's state, not the request's; another deployment (another
  // organisation) may serve it. OpenAI refuses only the streaming of some models so (a 400 `unsupported_value` on
  // `stream`): the deployment cannot serve that kind of request but is healthy (`unsupported`: out of its circuit);
  // refused the model itself (a 403), it can serve none.
  if (fields.message && /organization must be verified/i.test(fields.message)) {
    return /verified to stream/i.test(fields.message) ? 'unsupported' : 'permission_denied';
  }
  // Mistral's answer for a model id it does not have (a 400 "Invalid model: x", code "1500").
  if (fields.type === 'invalid_model') return 'provider_model_not_found';
  if (status === 404) {
    // OpenRouter: no provider behind the model takes what this request asks ("No endpoints found that support tool
    // use", "... the provided 'tool_choice' value", "... image input"): the deployment serves other requests, so it
    // is `unsupported` (falls over, out of its circuit), not a wrong model id.
    if (fields.message && NO_ENDPOINT_SUPPORTS.test(fields.message)) return 'unsupported';
    // Azure's unknown deployment (the deployment's model id in its URL), Fireworks' `param: model`, and the words of
    // vLLM ("The model `x` does not exist."), Ollama (`model "x" not found, try pulling it first`), Fireworks, Azure.
    if (fields.code === 'DeploymentNotFound' || fields.param === 'model') return 'provider_model_not_found';
    if (fields.message && MODEL_UNKNOWN.test(fields.message)) return 'provider_model_not_found';
  }
  if (status === 400 && fields.message && DEEPSEEK_MODEL_NOT_EXIST.test(fields.message)) return 'provider_model_not_found';
  // A provider refusing the conversation for how it ends, behind a router or not (`openAILastRoleError` names the
  // message, or the caller's own `providerOptions` messages, and latches the engine).
  if (status === 400 && finalTurnRefusal(fields) !== undefined) return 'unsupported';
  // vLLM and llama.cpp report an over-long prompt only in the message (status 400), with OpenAI's wording.
  if (status === 400 && fields.message && /maximum context length|context length exceeded|exceeds the available context size/i.test(fields.message)) {
    return 'context_length_exceeded';
  }
  return undefined;
}

/** `extract` for `errorFromResponse`. */
export function extractOpenAIError(body: unknown, status: number): ProviderErrorInfo {
  const fields = readOpenAIErrorFields(body);
  const code = codeForOpenAIError(fields, status);
  return {
    ...(fields.message !== undefined ? { message: fields.message } : {}),
    ...(code !== undefined ? { code } : {}),
    details: body,
  };
}

/**
 * A non-2xx response -> LLMError. 429 `insufficient_quota` (billing quota used up) is `budget_exceeded`, not
 * retryable and without the 429's `retry-after`: waiting does not help, another deployment might.
 */
export async function openAIErrorFromResponse(response: Response, context: { provider: string; deployment?: string }): Promise<LLMError> {
  const error = await errorFromResponse(response, context, (body) => extractOpenAIError(body, response.status));
  const fields = readOpenAIErrorFields(error.details);
  const patch: Partial<ConstructorParameters<typeof LLMError>[0]> = {};
  if (fields.code === 'insufficient_quota') Object.assign(patch, { isRetryable: false, retryAfterMs: undefined });
  const param = providerParam(fields);
  if (param) patch.param = param;
  return Object.keys(patch).length > 0 ? error.with(patch) : error;
}

/**
 * An error object sent inside a stream (`data: {"error":{...}}`, a top-level one, `topLevelStreamError`, or
 * llama.cpp's `error: {...}` line) -> LLMError. The request was accepted before the 200 went out, so a 4xx
 * `code` does not make it the request's fault by itself (vLLM up to 0.10 sends every exception of a stream, a
 * dead engine or CUDA out of memory, as `code: 400`, `BadRequestError`): only the provider's code or message
 * says more (an over-long prompt, a used-up quota); else a 429 is `rate_limited`, a 5xx classified as a
 * response of that status, anything else `provider_error` (retried, then the next deployment; counts against
 * its circuit).
 */
export function openAIStreamError(errorObject: unknown, context: { provider: string; deployment?: string }): LLMError {
  const fields = readOpenAIErrorFields({ error: errorObject });
  const numeric = typeof (errorObject as { code?: unknown } | null)?.code === 'number' ? (errorObject as { code: number }).code : undefined;
  const status = numeric !== undefined && numeric >= 400 && numeric < 600 ? numeric : undefined;
  const code = codeForOpenAIError(fields, status) ?? (status === 429 || (status !== undefined && status >= 500) ? codeForHttpStatus(status) : 'provider_error');
  return new LLMError({
    code,
    message: `${context.provider} sent an error in the stream: ${fields.message ?? 'unknown error'}`,
    // As over HTTP (`openAIErrorFromResponse`): a used-up billing quota is not worth waiting for.
    ...(fields.code === 'insufficient_quota' ? { isRetryable: false } : {}),
    provider: context.provider,
    deployment: context.deployment,
    upstreamStatus: status,
    details: errorObject,
  });
}

/**
 * The error a stream chunk without `choices` carries at its top level, if it is one: an error response in place
 * of a chunk (`{"object":"error","message":...,"code":400}`, vLLM's older releases) or FastChat's worker output
 * (`{"text":...,"error_code":50001}`, codes of its own, not HTTP statuses). Else undefined.
 */
export function topLevelStreamError(chunk: unknown): unknown {
  if (typeof chunk !== 'object' || chunk === null) return undefined;
  const c = chunk as Record<string, unknown>;
  if (c.object === 'error') return c;
  if (typeof c.error_code === 'number' && c.error_code !== 0) return { message: str(c.text), code: String(c.error_code) };
  return undefined;
}
