import type { FinishReason, RouterResult, Usage } from '@llmrr/core';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { OpenAIResponse, OpenAIResponsesRequest, ResponsesOutputItem, ResponsesUsage } from '../schemas/openai-responses.js';
import { encryptReasoning } from './reasoning-encrypted-content.js';
import { toOutputTextLogprobs } from './responses-logprobs.js';

/** The request fields a `response` object echoes back (what the call ran with). */
export type ResponseEcho = Pick<
  OpenAIResponse,
  | 'instructions'
  | 'max_output_tokens'
  | 'max_tool_calls'
  | 'parallel_tool_calls'
  | 'prompt_cache_key'
  | 'reasoning'
  | 'safety_identifier'
  | 'temperature'
  | 'text'
  | 'tool_choice'
  | 'tools'
  | 'top_logprobs'
  | 'top_p'
  | 'user'
  | 'metadata'
>;

export function responseEcho(body: OpenAIResponsesRequest): ResponseEcho {
  const choice = body.tool_choice;
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    // As sent (OpenAI echoes it; a key over 64 characters too, though an OpenAI deployment gets it shortened);
    // undefined when the request had none, so the answer has no such key (its bytes as before the field).
    prompt_cache_key: body.prompt_cache_key,
    // The effort is applied (the core request's `reasoning.effort`); the summary setting is not (the reasoning
    // comes back whole, as summary and content).
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    // As sent (a string or null; undefined, so no key, when the request had none, as prompt_cache_key).
    safety_identifier: body.safety_identifier,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ? formatInSchemaOrder(body.text.format) : { type: 'text' }, verbosity: body.text?.verbosity ?? 'medium' },
    tool_choice: choice == null ? 'auto' : typeof choice === 'string' ? choice : { type: 'function', name: choice.name ?? '' },
    tools: (body.tools ?? []).map((t) => ({ type: 'function' as const, name: t.name ?? '', description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null })),
    // As sent (applied: the alternatives per token asked for); undefined when the request had none.
    top_logprobs: body.top_logprobs,
    top_p: body.top_p ?? 1,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

type TextFormat = NonNullable<NonNullable<OpenAIResponsesRequest['text']>['format']>;

/** The keys of `ResponsesTextFormatSchema`'s variants, in the schema's order. */
const JSON_SCHEMA_FORMAT_KEYS = ['type', 'name', 'schema', 'description', 'strict'] as const;
const FORMAT_KEYS = ['type'] as const;

/**
 * `text.format` with its keys in the order zod's copy gives them: the schema's keys that are there first (`type`;
 * for json_schema then `name`, `schema`, `description`, `strict`), then the other keys as sent. The fast check
 * hands on the client's own object (the Vercel AI SDK sends `{ type, strict, name, description, schema }`), the
 * schema its copy, so without this the echo's bytes would depend on the path that validated the body (and
 * differ from what the gateway answered when json_schema formats always went through zod). A few keys copied
 * once per request.
 */
function formatInSchemaOrder(format: TextFormat): ResponseEcho['text']['format'] {
  const from = format as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of format.type === 'json_schema' ? JSON_SCHEMA_FORMAT_KEYS : FORMAT_KEYS) if (k in from) out[k] = from[k];
  // Neither path hands on an own `__proto__` key; skipping it keeps `out`'s prototype whatever the caller.
  for (const k in from) if (k !== '__proto__' && !Object.hasOwn(out, k)) out[k] = from[k];
  return out as ResponseEcho['text']['format'];
}

/** `req_<hex>` -> `<hex>`: the suffix every id of one answer shares. */
function idSuffix(requestId: string): string {
  return requestId.startsWith('req_') ? requestId.slice(4) : requestId;
}

export const responseIds = {
  response: (requestId: string) => `resp_${idSuffix(requestId)}`,
  message: (requestId: string) => `msg_${idSuffix(requestId)}`,
  reasoning: (requestId: string) => `rs_${idSuffix(requestId)}`,
  functionCall: (requestId: string, index: number) => `fc_${idSuffix(requestId)}_${index}`,
};

export function toResponsesUsage(usage: Usage): ResponsesUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.totalTokens,
  };
}

/** A length or content-filter finish makes the response `incomplete`, with the reason. */
export function responseStatus(reason: FinishReason): Pick<OpenAIResponse, 'status' | 'incomplete_details'> {
  if (reason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (reason === 'content-filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

const IN_PROGRESS: Pick<OpenAIResponse, 'status' | 'incomplete_details'> = { status: 'in_progress', incomplete_details: null };

/** The `response` object before any output (for `response.created` / `response.in_progress`). */
export function pendingResponse(requestId: string, model: string, createdAt: number, echo: ResponseEcho): OpenAIResponse {
  return responseObject(requestId, model, createdAt, echo, IN_PROGRESS, [], null);
}

/** A `response` object, built in one literal (a spread that adds keys costs about a microsecond per key on V8). */
function responseObject(
  requestId: string,
  model: string,
  createdAt: number,
  echo: ResponseEcho,
  state: Pick<OpenAIResponse, 'status' | 'incomplete_details'>,
  output: ResponsesOutputItem[],
  usage: ResponsesUsage | null,
): OpenAIResponse {
  return {
    id: responseIds.response(requestId),
    object: 'response',
    created_at: createdAt,
    status: state.status,
    background: false,
    error: null,
    incomplete_details: state.incomplete_details,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    max_tool_calls: echo.max_tool_calls,
    model,
    output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: null,
    // Undefined (no key in the JSON) when the request had none; OpenAI's place for it.
    prompt_cache_key: echo.prompt_cache_key,
    reasoning: echo.reasoning,
    safety_identifier: echo.safety_identifier,
    store: false,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_logprobs: echo.top_logprobs,
    top_p: echo.top_p,
    truncation: 'disabled',
    usage,
    user: echo.user,
    metadata: echo.metadata,
  };
}

type ItemStatus = ResponsesOutputItem['status'];

/**
 * A reasoning item: the reasoning as `reasoning_text` content (what OpenAI's open-weight models send) and
 * again as one `summary_text` summary part (what the Vercel AI SDK reads; it ignores `content`); with
 * `encrypted`, the signed blocks to give back (`encrypted_content`, see reasoning-encrypted-content.ts).
 */
export function reasoningItem(id: string, text: string, status: ItemStatus, encrypted?: string): ResponsesOutputItem {
  if (encrypted !== undefined) return { type: 'reasoning', id, summary: [{ type: 'summary_text', text }], content: [{ type: 'reasoning_text', text }], encrypted_content: encrypted, status };
  return { type: 'reasoning', id, summary: [{ type: 'summary_text', text }], content: [{ type: 'reasoning_text', text }], status };
}

/** True when a finish cuts the answer short: the response and the item being produced are `incomplete`. */
export function isCut(reason: FinishReason): boolean {
  return reason === 'length' || reason === 'content-filter';
}

/**
 * The output items of a finished answer: reasoning, the message (when there is text, or no other item at
 * all, as OpenAI answers a limit hit during reasoning with the reasoning item alone), function calls. On a
 * length or content-filter finish the last item (the one being produced when the answer was cut) is
 * `incomplete`, as in the streamed answer. The message's `output_text` carries the answer's token log
 * probabilities when the request asked for them (`logprobs`) and the answer has them (else `[]`, as before). The
 * model's refusal (`RouterResult.refusal`) is a message of its own with a `refusal` part, as OpenAI answers it
 * (after the text's message, when the answer had text first), as the streamed answer builds it. With
 * `encryptedReasoning` (`include: ["reasoning.encrypted_content"]`) the reasoning item carries the provider's signed
 * blocks (`RouterResult.reasoningParts`) as `encrypted_content`, when it signed them.
 */
export function outputItems(
  result: Pick<RouterResult, 'requestId' | 'text' | 'reasoning' | 'toolCalls' | 'finishReason' | 'logprobs' | 'refusal'> & Partial<Pick<RouterResult, 'reasoningParts' | 'provider'>>,
  logprobs = false,
  encryptedReasoning = false,
): ResponsesOutputItem[] {
  const items: ResponsesOutputItem[] = [];
  const encrypted = encryptedReasoning ? encryptReasoning(result.provider ?? '', result.reasoningParts) : undefined;
  // Signed blocks without text (redacted thinking) still need an item to come back in.
  if (result.reasoning || encrypted !== undefined) items.push(reasoningItem(responseIds.reasoning(result.requestId), result.reasoning ?? '', 'completed', encrypted));
  const refusal = result.refusal ?? '';
  const hasText = result.text !== '' || (refusal === '' && result.toolCalls.length === 0 && !result.reasoning);
  if (hasText) {
    items.push({
      type: 'message',
      id: responseIds.message(result.requestId),
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: result.text, annotations: [], logprobs: logprobs && result.logprobs ? toOutputTextLogprobs(result.logprobs) : [] }],
    });
  }
  if (refusal !== '') {
    const id = hasText ? `${responseIds.message(result.requestId)}_1` : responseIds.message(result.requestId);
    items.push({ type: 'message', id, status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal }] });
  }
  result.toolCalls.forEach((c, i) => {
    items.push({ type: 'function_call', id: responseIds.functionCall(result.requestId, i), call_id: c.id, name: c.name, arguments: c.arguments, status: 'completed' });
  });
  const last = items.at(-1);
  if (last && isCut(result.finishReason)) last.status = 'incomplete';
  return items;
}

/**
 * A router result as a finished `response` object (`output`: the items a stream built, else `outputItems`;
 * `logprobs`: the request asked for log probabilities).
 */
export function toResponseObject(
  result: RouterResult,
  options: { createdAt: number; echo: ResponseEcho; explain: boolean; output?: ResponsesOutputItem[]; logprobs?: boolean; encryptedReasoning?: boolean },
): OpenAIResponse {
  const output = options.output ?? outputItems(result, options.logprobs === true, options.encryptedReasoning === true);
  const response = responseObject(result.requestId, result.deployment, options.createdAt, options.echo, responseStatus(result.finishReason), output, toResponsesUsage(answerUsage(result)));
  response.llmrr = llmrrInfo(result, options.explain);
  return response;
}
