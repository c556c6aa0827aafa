import { LLMError, type LLMErrorOptions } from '../../errors/llm-error.js';
import { withReportedUsage } from '../../errors/reported-usage.js';
import type { FinishReason, Usage } from '../../spec/usage.js';

/**
 * Gemini `finishReason` (and prompt `blockReason`) -> our finish reason. A finish that is the model failing to make a
 * tool call (`MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`) is no finish but an error: see `geminiFinishError`.
 */
export function mapGeminiFinishReason(finishReason: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (finishReason) {
    case 'STOP':
      return hasToolCalls ? 'tool-calls' : 'stop';
    case 'MAX_TOKENS':
      return 'length';
    // Gemini's filters (its safety, recitation, blocklist, PII and language checks, and their image forms): what
    // OpenAI calls `content_filter` and Anthropic `refusal`.
    case 'SAFETY':
    case 'RECITATION':
    case 'LANGUAGE':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
      return 'content-filter';
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
      return 'error';
    default:
      // OTHER, FINISH_REASON_UNSPECIFIED, IMAGE_OTHER, NO_IMAGE and reasons added later.
      return 'other';
  }
}

/** What each tool-call failure is, for the error's message. */
const FAILED_TOOL_CALLS: Readonly<Record<string, string>> = {
  MALFORMED_FUNCTION_CALL: 'the model made a malformed function call',
  UNEXPECTED_TOOL_CALL: 'the model called a tool when none was enabled',
};

/**
 * The error of an answer that ended with the model failing to make a tool call (`MALFORMED_FUNCTION_CALL`,
 * `UNEXPECTED_TOOL_CALL`), else undefined. Such an answer has no usable call (Gemini drops it; the text before it, if
 * any, is not the answer the client asked for), so reporting it as a plain finish would tell an OpenAI or Anthropic
 * client that the model finished normally (`stop`, `end_turn`): OpenAI and Anthropic have no finish value for it
 * (LiteLLM answers `stop`, "openai doesn't have a way of representing this"; the AI SDK a finish reason `error`,
 * which the gateway's routes would still show as a stop). It is an `invalid_response` (502, retryable): the router
 * tries again or falls over to the next deployment (a stream that already sent its first byte ends with an `error`
 * event), and a client sees a failed call, not a finished one; it is the model's (`modelFault`): no strike on the
 * deployment's circuit. Gemini's `finishMessage` (the call's text) is in
 * `details`, and so is `usage` (a whole answer's: Gemini billed it) under `REPORTED_USAGE`, which the router bills.
 */
export function geminiFinishError(
  finishReason: string | undefined,
  finishMessage: string | undefined,
  context: Pick<LLMErrorOptions, 'provider' | 'deployment'>,
  usage?: Usage,
): LLMError | undefined {
  const what = finishReason !== undefined && Object.hasOwn(FAILED_TOOL_CALLS, finishReason) ? FAILED_TOOL_CALLS[finishReason] : undefined;
  if (what === undefined) return undefined;
  const provider = context.provider ?? 'gemini';
  const details = finishMessage !== undefined ? { finishReason, finishMessage } : { finishReason };
  return new LLMError({
    code: 'invalid_response',
    message: `${provider}: ${what} (finishReason ${finishReason}); no usable answer`,
    ...context,
    // The model's answer to this request (its tools, its prompt), which Gemini served: no strike on the deployment.
    modelFault: true,
    details: usage ? withReportedUsage(details, usage) : details,
  });
}
