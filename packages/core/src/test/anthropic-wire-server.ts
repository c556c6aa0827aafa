/**
 * A local HTTP peer that speaks the Anthropic Messages API wire format (JSON answers, SSE event
 * sequences, error bodies and headers), scriptable per request, for tests of anything that talks to
 * Anthropic. It is a test double: its answers are scripted or echoed, never a model's.
 *
 * ```ts
 * const server = await startAnthropicWireServer({ replies: [{ content: 'Hi!', chunks: 3 }] });
 * // point the client at server.url (baseURL), call it, then inspect server.requests
 * await server.close();
 * ```
 *
 * Routes: POST /v1/messages (streamed when the body says `stream: true`), POST /v1/messages/count_tokens.
 * Like the real API it requires the `x-api-key` and `anthropic-version` headers and `model`, `max_tokens`,
 * `messages` in the body (400/401 otherwise), refuses cache marks the API refuses (`cacheControlProblem`) and
 * `{ role: "system" }` entries in `messages` on models without mid-conversation system messages or at a place the
 * API does not allow (`systemMessageProblem`), and a `tool_choice` the API refuses (`toolChoiceProblem`:
 * `disable_parallel_tool_use` on `none`; a forced choice with thinking) and `top_k` with thinking (`topKProblem`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { anthropicModelTakesMidConversationSystem } from '../engines/anthropic/anthropic-mid-conversation-models.js';
import { splitEven, WireServerKit, type ReplyQueueServer, type TrackedRequest, type WireBody } from './wire-server-kit.js';

/** A content block of a scripted answer. */
export type AnthropicWireBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature?: string }
  /** An encrypted thinking block: sent whole (streamed: in its content_block_start, no deltas). */
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

export interface AnthropicWireUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** An HTTP error answer: status plus Anthropic's body `{ type: 'error', error: { type, message } }`. */
export interface AnthropicWireError {
  status: number;
  /** Anthropic error type; default from the status (429 -> `rate_limit_error`, 529 -> `overloaded_error`, ...). */
  type?: string;
  message?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '7' }`. */
  headers?: Record<string, string>;
}

/** What the server does with one /v1/messages request. Every field is optional. */
export interface AnthropicWireReply {
  /** Answer blocks; a string is one text block. Default: `Echo: <last user text>`. */
  content?: string | AnthropicWireBlock[];
  /** Default: `tool_use` when a tool_use block is present, else `end_turn`. */
  stopReason?: string;
  /**
   * The `stop_sequence` answered with stop reason `stop_sequence`; default the request's first `stop_sequences`
   * entry (null with any other stop reason, as Anthropic sends).
   */
  stopSequence?: string;
  /** Reported usage; missing numbers are derived deterministically from the request and answer sizes. */
  usage?: AnthropicWireUsage;
  id?: string;
  /** Default: the request's `model`. */
  model?: string;
  /** Streaming: deltas per text/thinking/tool block (default 1). */
  chunks?: number;
  /** Streaming: pause before every event after the first; non-streaming: pause before answering. */
  delayMs?: number;
  /** Answer with this HTTP error instead. */
  error?: AnthropicWireError;
  /** Streaming: after `afterEvents` events, send an `error` event (default `overloaded_error`) and end the response. */
  streamError?: { afterEvents: number; type?: string; message?: string };
  /** Streaming: destroy the connection after this many events (no terminal event, no clean HTTP end). */
  cutAfterEvents?: number;
  /** Streaming: end the HTTP response cleanly after this many events, without `message_stop`. */
  endAfterEvents?: number;
  /** Send nothing at all (not even headers) until the client goes away or the server closes. */
  hang?: boolean;
  /** Streaming: send this many events, then nothing until the client goes away or the server closes. */
  hangAfterEvents?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** A request the server received: method, path, query, headers, body, SSE events sent, whether the client left. */
export interface AnthropicWireRequest extends TrackedRequest {}

export interface AnthropicWireServerOptions {
  /** Replies for /v1/messages requests, used in order. */
  replies?: AnthropicWireReply[];
  /** Reply for requests when the `replies` queue is empty. Default: the echo reply. */
  handler?: (request: AnthropicWireRequest) => AnthropicWireReply | Promise<AnthropicWireReply>;
  /** When set, `x-api-key` must equal it (else 401 `authentication_error`). Any non-empty key is accepted otherwise. */
  apiKey?: string;
  /**
   * Check thinking blocks given back as the real API does (extended-thinking guide, "Preserving thinking
   * blocks"): with `thinking` enabled (or adaptive), a final assistant message that holds a `tool_use` must start
   * with a `thinking` or `redacted_thinking` block (else the API's 400 "Expected `thinking` or
   * `redacted_thinking`, but found `tool_use`"), and every thinking block given back must be one this server
   * sent, with its signature, text and redacted data unchanged (else a 400 on the invalid signature).
   */
  checkThinkingBlocks?: boolean;
  /** Answer of /v1/messages/count_tokens. Default: ceil(JSON length of messages, system and tools / 4). */
  countTokens?: (body: Record<string, unknown>) => number;
  /**
   * Which models take mid-conversation system messages (`{ role: "system" }` inside `messages`). Default: Claude
   * Opus 4.8 (`claude-opus-4-8` and its dated snapshots), as on the real API; `true` for every model (a newer one).
   */
  midConversationSystem?: boolean | ((model: string) => boolean);
  /**
   * The model ids (the body's `model`, exactly) that answer a request whose `messages` end with an assistant message
   * with the API's 400 invalid_request_error "This model does not support assistant message prefill. The conversation
   * must end with a user message.", as Claude Opus / Sonnet 4.6 and later do. An explicit list, not core's table
   * (`anthropicModelRefusesPrefill`), so that a wrong entry there shows as this 400 in a test. Default: none.
   */
  prefillRefusedModels?: readonly string[];
}

export interface AnthropicWireServer extends ReplyQueueServer<AnthropicWireRequest, AnthropicWireReply> {}

/** One SSE event as written on the wire. */
export interface AnthropicWireEvent {
  event: string;
  data: Record<string, unknown>;
}

const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_MESSAGE: Record<string, string> = {
  invalid_request_error: 'Invalid request',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'The requested resource could not be found.',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  api_error: 'Internal server error',
  timeout_error: 'Request timed out',
  overloaded_error: 'Overloaded',
};

/** Anthropic's error type for an HTTP status (`api_error` for unknown 5xx, `invalid_request_error` otherwise). */
export function anthropicErrorTypeForStatus(status: number): string {
  return ERROR_TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: string; content?: unknown }>) : [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (!Array.isArray(last.content)) return '';
  return last.content.map((b: { type?: string; text?: string }) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
}

function blocksOf(reply: AnthropicWireReply, body: Record<string, unknown>): AnthropicWireBlock[] {
  if (reply.content === undefined) return [{ type: 'text', text: `Echo: ${lastUserText(body)}` }];
  if (typeof reply.content === 'string') return [{ type: 'text', text: reply.content }];
  return reply.content;
}

function blockSize(b: AnthropicWireBlock): number {
  if (b.type === 'redacted_thinking') return b.data.length;
  return b.type === 'text' ? b.text.length : b.type === 'thinking' ? b.thinking.length : JSON.stringify(b.input).length;
}

function usageOf(reply: AnthropicWireReply, body: Record<string, unknown>, blocks: AnthropicWireBlock[]): Required<Pick<AnthropicWireUsage, 'input_tokens' | 'output_tokens'>> & AnthropicWireUsage {
  const promptChars = JSON.stringify([body.system ?? '', body.messages ?? [], body.tools ?? []]).length;
  const outputChars = blocks.reduce((n, b) => n + blockSize(b), 0);
  return {
    ...reply.usage,
    input_tokens: reply.usage?.input_tokens ?? Math.max(1, Math.ceil(promptChars / 4)),
    output_tokens: reply.usage?.output_tokens ?? Math.max(1, Math.ceil(outputChars / 4)),
  };
}

function toolId(block: { id?: string }, index: number, messageId: string): string {
  return block.id ?? `toolu_${messageId.replace(/^msg_/, '')}_${index}`;
}

function responseBlocks(blocks: AnthropicWireBlock[], messageId: string): Array<Record<string, unknown>> {
  return blocks.map((b, i) => {
    if (b.type === 'text') return { type: 'text', text: b.text };
    if (b.type === 'thinking') return { type: 'thinking', thinking: b.thinking, signature: b.signature ?? 'c2lnbmF0dXJl' };
    if (b.type === 'redacted_thinking') return { type: 'redacted_thinking', data: b.data };
    return { type: 'tool_use', id: toolId(b, i, messageId), name: b.name, input: b.input };
  });
}

function stopReasonOf(reply: AnthropicWireReply, blocks: AnthropicWireBlock[]): string {
  return reply.stopReason ?? (blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
}

/** `stop_sequence`: the sequence matched when the stop reason is `stop_sequence`, else null. */
function stopSequenceOf(reply: AnthropicWireReply, body: Record<string, unknown>, blocks: AnthropicWireBlock[]): string | null {
  if (stopReasonOf(reply, blocks) !== 'stop_sequence') return null;
  const asked = Array.isArray(body.stop_sequences) && typeof body.stop_sequences[0] === 'string' ? body.stop_sequences[0] : null;
  return reply.stopSequence ?? asked;
}

/** The non-streamed Messages answer for a reply (what the server sends as JSON). */
export function anthropicMessageBody(reply: AnthropicWireReply, body: Record<string, unknown>, messageId = 'msg_wire_0'): Record<string, unknown> {
  const blocks = blocksOf(reply, body);
  return {
    id: reply.id ?? messageId,
    type: 'message',
    role: 'assistant',
    model: reply.model ?? body.model,
    content: responseBlocks(blocks, reply.id ?? messageId),
    stop_reason: stopReasonOf(reply, blocks),
    stop_sequence: stopSequenceOf(reply, body, blocks),
    usage: usageOf(reply, body, blocks),
  };
}

/**
 * The full SSE event sequence for a reply, as the real API orders it: message_start, then per block
 * content_block_start / content_block_delta... / content_block_stop (a `ping` after the first start),
 * message_delta (stop_reason, output usage), message_stop.
 */
export function anthropicStreamEvents(reply: AnthropicWireReply, body: Record<string, unknown>, messageId = 'msg_wire_0'): AnthropicWireEvent[] {
  const id = reply.id ?? messageId;
  const blocks = blocksOf(reply, body);
  const usage = usageOf(reply, body, blocks);
  const chunks = reply.chunks ?? 1;
  const events: AnthropicWireEvent[] = [];
  const push = (data: Record<string, unknown>) => events.push({ event: String(data.type), data });
  const { output_tokens: outputTokens, ...startUsage } = usage;
  push({
    type: 'message_start',
    message: { id, type: 'message', role: 'assistant', model: reply.model ?? body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...startUsage, output_tokens: 1 } },
  });
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      if (index === 0) push({ type: 'ping' });
      for (const text of splitEven(b.text, chunks)) push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    } else if (b.type === 'thinking') {
      push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '' } });
      if (index === 0) push({ type: 'ping' });
      for (const thinking of splitEven(b.thinking, chunks)) push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
      push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature ?? 'c2lnbmF0dXJl' } });
    } else if (b.type === 'redacted_thinking') {
      push({ type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: b.data } });
      if (index === 0) push({ type: 'ping' });
    } else {
      push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: toolId(b, index, id), name: b.name, input: {} } });
      if (index === 0) push({ type: 'ping' });
      push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const partial_json of splitEven(JSON.stringify(b.input), chunks)) push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
    }
    push({ type: 'content_block_stop', index });
  });
  if (blocks.length === 0) push({ type: 'ping' });
  push({ type: 'message_delta', delta: { stop_reason: stopReasonOf(reply, blocks), stop_sequence: stopSequenceOf(reply, body, blocks) }, usage: { output_tokens: outputTokens } });
  push({ type: 'message_stop' });
  return events;
}

function sse(e: AnthropicWireEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

type WireMessage = { role?: string; content?: unknown };
type WireBlockIn = { type?: string; thinking?: unknown; signature?: unknown; data?: unknown };

/** The 400 message the real API answers for thinking blocks given back wrong, or undefined when they are right. */
function thinkingBlocksProblem(body: Record<string, unknown>, signed: Map<string, string>, redacted: Set<string>): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as WireMessage[]) : [];
  for (const [i, m] of messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const [j, b] of (m.content as WireBlockIn[]).entries()) {
      if (b.type === 'thinking' && (typeof b.signature !== 'string' || signed.get(b.signature) !== b.thinking)) return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      if (b.type === 'redacted_thinking' && (typeof b.data !== 'string' || !redacted.has(b.data))) return `messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`;
    }
  }
  const mode = (body.thinking as { type?: string } | undefined)?.type;
  if (mode !== 'enabled' && mode !== 'adaptive') return undefined;
  const at = messages.map((m) => m.role).lastIndexOf('assistant');
  const last = messages[at];
  if (!last || !Array.isArray(last.content)) return undefined;
  const blocks = last.content as WireBlockIn[];
  if (!blocks.some((b) => b.type === 'tool_use')) return undefined;
  const first = blocks[0]?.type;
  if (first === 'thinking' || first === 'redacted_thinking') return undefined;
  return (
    `messages.${at}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first}\`. When \`thinking\` is enabled, a final ` +
    '`assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks).'
  );
}

/**
 * The 400 the real API answers for prompt-cache marks it refuses, or undefined when they are right (prompt
 * caching guide): `cache_control` is `{type: 'ephemeral', ttl?: '5m' | '1h'}`; at most 4 marks in all, the
 * top-level (automatic) one included; never on a thinking, redacted_thinking or empty text block; in render
 * order (tools -> system -> messages, the automatic one last) a 1-hour mark never follows a 5-minute one.
 */
export function cacheControlProblem(body: Record<string, unknown>): string | undefined {
  const marks: Array<{ at: string; value: unknown }> = [];
  const blocks = (list: unknown, at: string): string | undefined => {
    if (!Array.isArray(list)) return undefined;
    for (const [j, b] of list.entries()) {
      if (typeof b !== 'object' || b === null || !('cache_control' in b) || (b as { cache_control?: unknown }).cache_control == null) continue;
      const block = b as { type?: unknown; text?: unknown; cache_control: unknown };
      if (block.type === 'thinking' || block.type === 'redacted_thinking') return `${at}.${j}.cache_control: cache_control cannot be set on ${String(block.type)} blocks`;
      if (block.type === 'text' && block.text === '') return `${at}.${j}: cache_control cannot be set for empty text blocks`;
      marks.push({ at: `${at}.${j}.cache_control`, value: block.cache_control });
    }
    return undefined;
  };
  const problem =
    blocks(body.tools, 'tools') ??
    blocks(body.system, 'system') ??
    (Array.isArray(body.messages) ? body.messages.map((m: { content?: unknown }, i: number) => blocks(m?.content, `messages.${i}.content`)).find((x) => x) : undefined);
  if (problem) return problem;
  if (body.cache_control != null) marks.push({ at: 'cache_control', value: body.cache_control });
  if (marks.length > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${marks.length}.`;
  let seen5m = false;
  for (const { at, value } of marks) {
    const v = value as { type?: unknown; ttl?: unknown };
    if (typeof v !== 'object' || v === null || v.type !== 'ephemeral') return `${at}.type: Input should be 'ephemeral'`;
    if (v.ttl !== undefined && v.ttl !== '5m' && v.ttl !== '1h') return `${at}.ttl: Input should be '5m' or '1h'`;
    if (v.ttl === '1h' && seen5m) return `${at}: a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block`;
    if (v.ttl !== '1h') seen5m = true;
  }
  return undefined;
}

/**
 * True when `model` takes mid-conversation system messages on the real API: the Claude API ids of Claude Opus 4.8
 * only (2026). The engine's own matcher (`anthropicModelTakesMidConversationSystem`: dated snapshots, the dotted
 * `claude-opus-4.8`, any letter case), so that this peer and the engine's default cannot disagree.
 */
export function anthropicWireModelTakesSystemMessages(model: unknown): boolean {
  return typeof model === 'string' && anthropicModelTakesMidConversationSystem(model);
}

function endsInServerToolUse(message: WireMessage): boolean {
  const content = message.content;
  return Array.isArray(content) && (content.at(-1) as WireBlockIn | undefined)?.type === 'server_tool_use';
}

/**
 * The 400 the real API answers for a `{ role: "system" }` entry of `messages`, or undefined when every one is
 * right. Mid-conversation system messages guide
 * (https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages): "available on Claude
 * Opus 4.8 only", other models answer "role 'system' is not supported on this model"; a system message cannot be
 * the first entry, must immediately follow a user message (or an assistant message ending in a server tool use),
 * must be the last entry or be followed by an assistant message, cannot follow another system message, and holds
 * text only (a string or text blocks). The placement messages are this server's wording of those rules (the
 * guide gives the rules, not the API's exact text).
 */
export function systemMessageProblem(body: Record<string, unknown>, takesSystemMessages: boolean): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as WireMessage[]) : [];
  for (const [i, m] of messages.entries()) {
    if (m?.role !== 'system') continue;
    if (!takesSystemMessages) return `messages.${i}.role: role 'system' is not supported on this model`;
    if (i === 0) return `messages.${i}: a system message cannot be the first entry in messages; use the top-level system parameter`;
    const prev = messages[i - 1]!;
    if (prev.role === 'system') return `messages.${i}: consecutive system messages are not allowed; merge them into one`;
    if (prev.role !== 'user' && !(prev.role === 'assistant' && endsInServerToolUse(prev))) {
      return `messages.${i}: a system message must immediately follow a user message or an assistant message that ends in a server tool use`;
    }
    const next = messages[i + 1];
    if (next?.role === 'system') return `messages.${i + 1}: consecutive system messages are not allowed; merge them into one`;
    if (next && next.role !== 'assistant') return `messages.${i}: a system message must be the last entry in messages or be followed by an assistant message`;
    const content = m.content;
    if (typeof content === 'string') {
      if (content === '') return `messages.${i}.content: system message content must be non-empty`;
      continue;
    }
    if (!Array.isArray(content) || content.length === 0) return `messages.${i}.content: system message content must be a non-empty string or list of text blocks`;
    for (const [j, b] of (content as Array<{ type?: unknown; text?: unknown }>).entries()) {
      if (b?.type !== 'text') return `messages.${i}.content.${j}.type: system messages support text blocks only, found '${String(b?.type)}'`;
      if (typeof b.text !== 'string' || b.text === '') return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
    }
  }
  return undefined;
}

/**
 * The 400 the real API answers for a `tool_choice` it refuses, or undefined when it takes it. `disable_parallel_tool_use`
 * belongs to `auto`, `any` and `tool` only (@anthropic-ai/sdk 1.14: `ToolChoiceNone` is `{ type: "none" }` alone; the
 * API validates strictly and refuses the extra field, as seen by the new-api gateway, QuantumNous/new-api#2763). With
 * `thinking` enabled (or adaptive), a choice that forces tool use (`any`, `tool`) is refused with the API's own message
 * (extended-thinking guide, "Feature compatibility"); `auto` and `none` are taken, `disable_parallel_tool_use` or not.
 * The thinking rule holds for /v1/messages (`thinkingToo`); count_tokens only gets the field check. The extra-field
 * message is this server's wording in the API's validation style.
 */
export function toolChoiceProblem(body: Record<string, unknown>, thinkingToo: boolean): string | undefined {
  const choice = body.tool_choice as { type?: unknown; disable_parallel_tool_use?: unknown } | null | undefined;
  if (typeof choice !== 'object' || choice === null) return undefined;
  if (choice.type === 'none' && 'disable_parallel_tool_use' in choice) return 'tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted';
  const mode = (body.thinking as { type?: unknown } | null | undefined)?.type;
  if (thinkingToo && (mode === 'enabled' || mode === 'adaptive') && (choice.type === 'any' || choice.type === 'tool')) {
    return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  return undefined;
}

/**
 * The 400 the real API answers for `top_k` with thinking enabled (or adaptive), or undefined: its message as seen
 * in quarkiverse/quarkus-langchain4j#1812 and danny-avila/LibreChat#6023 (extended-thinking guide, "Feature
 * compatibility": thinking is not compatible with top_k modifications).
 */
export function topKProblem(body: Record<string, unknown>): string | undefined {
  const mode = (body.thinking as { type?: unknown } | null | undefined)?.type;
  if (body.top_k === undefined || (mode !== 'enabled' && mode !== 'adaptive')) return undefined;
  return '`top_k` must be unset when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking';
}

/** Body fields count_tokens takes (@anthropic-ai/sdk 1.14 MessageCountTokensParams; `output_config` steers adaptive thinking). */
const COUNT_TOKENS_FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'mcp_servers']);

/** Starts the server on 127.0.0.1 and a free port. Close it in afterAll/afterEach. */
export async function startAnthropicWireServer(options: AnthropicWireServerOptions = {}): Promise<AnthropicWireServer> {
  const queue = [...(options.replies ?? [])];
  const requests: AnthropicWireRequest[] = [];
  let messageCount = 0;
  /** Thinking blocks sent (signature -> text) and redacted data sent, for `checkThinkingBlocks`. */
  const signed = new Map<string, string>();
  const redacted = new Set<string>();
  const takes = options.midConversationSystem ?? anthropicWireModelTakesSystemMessages;
  const takesSystemMessages = (model: unknown): boolean => (typeof takes === 'boolean' ? takes : typeof model === 'string' && takes(model));
  const kit = new WireServerKit((res, e) => sendError(res, { status: 500, message: `wire server failure: ${String(e)}` }, `req_${requests.length}`));

  function sendError(res: ServerResponse, error: AnthropicWireError, requestId: string): void {
    const type = error.type ?? anthropicErrorTypeForStatus(error.status);
    const payload = JSON.stringify({ type: 'error', error: { type, message: error.message ?? DEFAULT_MESSAGE[type] ?? 'Error' } });
    res.writeHead(error.status, { 'content-type': 'application/json', 'request-id': requestId, ...error.headers });
    res.end(payload);
  }

  async function stream(res: ServerResponse, record: AnthropicWireRequest, reply: AnthropicWireReply, events: AnthropicWireEvent[]): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_${requests.length}`, ...reply.headers });
    res.flushHeaders();
    const e = reply.streamError;
    const type = e?.type ?? 'overloaded_error';
    const errorFrame = e && sse({ event: 'error', data: { type: 'error', error: { type, message: e.message ?? DEFAULT_MESSAGE[type] ?? 'Error' } } });
    return kit.streamReply(res, record, reply, events.map(sse), errorFrame);
  }

  async function messages(res: ServerResponse, record: AnthropicWireRequest): Promise<void> {
    const body = record.body as Record<string, unknown>;
    const requestId = `req_${requests.length}`;
    const missing = ['model', 'max_tokens', 'messages'].find((f) => body[f] === undefined);
    if (missing) return sendError(res, { status: 400, message: `${missing}: Field required` }, requestId);
    if (!Array.isArray(body.messages) || body.messages.length === 0) return sendError(res, { status: 400, message: 'messages: at least one message is required' }, requestId);
    const systemProblem = systemMessageProblem(body, takesSystemMessages(body.model));
    if (systemProblem) return sendError(res, { status: 400, message: systemProblem }, requestId);
    const cacheProblem = cacheControlProblem(body);
    if (cacheProblem) return sendError(res, { status: 400, message: cacheProblem }, requestId);
    const choiceProblem = toolChoiceProblem(body, true);
    if (choiceProblem) return sendError(res, { status: 400, message: choiceProblem }, requestId);
    const topK = topKProblem(body);
    if (topK) return sendError(res, { status: 400, message: topK }, requestId);
    const lastMessage = (body.messages as Array<{ role?: unknown }>).at(-1);
    if (lastMessage?.role === 'assistant' && typeof body.model === 'string' && options.prefillRefusedModels?.includes(body.model)) {
      return sendError(res, { status: 400, message: 'This model does not support assistant message prefill. The conversation must end with a user message.' }, requestId);
    }
    if (options.checkThinkingBlocks) {
      const problem = thinkingBlocksProblem(body, signed, redacted);
      if (problem) return sendError(res, { status: 400, message: problem }, requestId);
    }
    const reply = queue.shift() ?? (options.handler ? await options.handler(record) : {});
    if (Array.isArray(reply.content)) {
      for (const b of reply.content) {
        if (b.type === 'thinking') signed.set(b.signature ?? 'c2lnbmF0dXJl', b.thinking);
        else if (b.type === 'redacted_thinking') redacted.add(b.data);
      }
    }
    if (reply.hang) return;
    const messageId = `msg_wire_${messageCount++}`;
    if (body.stream === true && !reply.error) return stream(res, record, reply, anthropicStreamEvents(reply, body, messageId));
    if (reply.delayMs) await kit.wait(reply.delayMs, res);
    if (kit.closing || res.destroyed) return;
    if (reply.error) return sendError(res, reply.error, requestId);
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId, ...reply.headers });
    res.end(JSON.stringify(anthropicMessageBody(reply, body, messageId)));
  }

  function countTokens(res: ServerResponse, record: AnthropicWireRequest): void {
    const body = record.body as Record<string, unknown>;
    const extra = Object.keys(body).find((k) => !COUNT_TOKENS_FIELDS.has(k));
    if (extra) return sendError(res, { status: 400, message: `${extra}: Extra inputs are not permitted` }, 'req_count');
    if (!Array.isArray(body.messages)) return sendError(res, { status: 400, message: 'messages: Field required' }, 'req_count');
    const systemProblem = systemMessageProblem(body, takesSystemMessages(body.model));
    if (systemProblem) return sendError(res, { status: 400, message: systemProblem }, 'req_count');
    const cacheProblem = cacheControlProblem(body);
    if (cacheProblem) return sendError(res, { status: 400, message: cacheProblem }, 'req_count');
    const choiceProblem = toolChoiceProblem(body, false);
    if (choiceProblem) return sendError(res, { status: 400, message: choiceProblem }, 'req_count');
    const count = options.countTokens ? options.countTokens(body) : Math.ceil(JSON.stringify([body.system ?? '', body.messages, body.tools ?? []]).length / 4);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ input_tokens: count }));
  }

  function handle(req: IncomingMessage, res: ServerResponse, wire: WireBody): Promise<void> | void {
    const record: AnthropicWireRequest = kit.track(req, res, wire);
    requests.push(record);
    kit.notify();

    const requestId = `req_${requests.length}`;
    const key = req.headers['x-api-key'];
    if (req.method !== 'POST' || (record.path !== '/v1/messages' && record.path !== '/v1/messages/count_tokens')) {
      return sendError(res, { status: 404, message: `Not found: ${req.method} ${record.path}` }, requestId);
    }
    if (typeof key !== 'string' || key === '') return sendError(res, { status: 401, message: 'x-api-key header is required' }, requestId);
    if (options.apiKey !== undefined && key !== options.apiKey) return sendError(res, { status: 401, message: 'invalid x-api-key' }, requestId);
    if (!req.headers['anthropic-version']) return sendError(res, { status: 400, message: 'anthropic-version: header is required' }, requestId);
    if (record.body === undefined) return sendError(res, { status: 400, message: 'The request body is not valid JSON.' }, requestId);
    return record.path === '/v1/messages' ? messages(res, record) : countTokens(res, record);
  }

  await kit.listen(handle);
  return kit.replyQueueServer('anthropic wire server', requests, queue);
}
