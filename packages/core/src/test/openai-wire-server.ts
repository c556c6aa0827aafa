import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { WireServerKit, type WireBody } from './wire-server-kit.js';

/** Token usage as the OpenAI wire format reports it. */
export interface OpenAIWireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export interface OpenAIWireToolCall {
  /** Default: `call_<n>`. */
  id?: string;
  name: string;
  /** Arguments as JSON text. */
  arguments: string;
}

/** An error answer: status, OpenAI error body `{ error: { message, type, code, param } }`, extra headers. */
export interface OpenAIWireError {
  status: number;
  message?: string;
  type?: string;
  code?: string | null;
  param?: string | null;
  /** Replaces the OpenAI error body entirely (any JSON value, or a string sent verbatim). */
  body?: unknown;
  /** e.g. `{ 'retry-after': '2' }`. */
  headers?: Record<string, string>;
}

/**
 * What the server does with one request. Every field is optional; `{}` is a normal answer that
 * echoes the last user message. Chat requests stream when their body says `stream: true`.
 */
export interface OpenAIWireScript {
  /** Wait this long before sending the status line. */
  delayMs?: number;
  /** Never answer: the request stays open until the client goes away or the server closes. */
  hang?: boolean;
  /** Answer with this error instead. */
  error?: OpenAIWireError;
  /** Answer text. Default: `echo: <last user message>`. */
  text?: string;
  /** Reasoning text, sent as `reasoning_content` (DeepSeek / vLLM style), streamed before the text. */
  reasoning?: string;
  toolCalls?: OpenAIWireToolCall[];
  /** Default: `tool_calls` when there are tool calls, else `stop`. `null`: never send a finish_reason. */
  finishReason?: string | null;
  /** Usage to report. Default: computed (~4 chars/token). `null`: never report usage. */
  usage?: OpenAIWireUsage | null;
  /**
   * When a stream carries usage: `requested` (default, like OpenAI: a final `choices: []` chunk only if the
   * request has `stream_options.include_usage`), `always` (on the finish chunk, like Mistral), `never`.
   */
  streamUsage?: 'requested' | 'always' | 'never';
  /** Default: the request's `model`, else `test-model`. */
  model?: string;
  /** Response id. Default: `chatcmpl-test-<n>`. */
  id?: string;
  /** Split the text into exactly this many content chunks (some may be empty if the text is shorter). Default: one per word. */
  chunks?: number;
  /** Split each tool call's arguments into this many chunks (default 3). */
  toolArgumentChunks?: number;
  /** Delay between streamed events, ms (default 0). */
  chunkDelayMs?: number;
  /** Destroy the socket after this many `data:` events (no `[DONE]`). */
  cutAfterChunks?: number;
  /** Stop sending after this many `data:` events and keep the connection open. */
  hangAfterChunks?: number;
  /** End the response cleanly but without the `data: [DONE]` line. */
  omitDone?: boolean;
  /** Answer a non-streaming request with this JSON body (status 200) instead of a generated completion. */
  json?: unknown;
  /** Send this SSE body verbatim (split into events at blank lines; delays and cuts apply per event). */
  rawSSE?: string;
  /** Answer a stream request as a non-streaming one (a JSON completion, or `json`): a server that ignores `stream: true`. */
  ignoresStream?: boolean;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Embeddings: vector length (default 8); a request's `dimensions` wins, as OpenAI's text-embedding-3 models do. */
  embeddingDimensions?: number;
  /** Embeddings: ignore a request's `dimensions` (a server that drops the field), answering `embeddingDimensions`. */
  ignoresDimensions?: boolean;
  /**
   * Take `top_k` as vLLM, llama.cpp server, Together, OpenRouter and LM Studio do (it changes nothing here). Default
   * false: like OpenAI's API, a request with `top_k` is a 400 "Unrecognized request argument supplied: top_k".
   */
  acceptsTopK?: boolean;
  /**
   * Answer without logprobs even when the request asks for them (a server that takes the field but returns none).
   */
  omitLogprobs?: boolean;
  /**
   * Refuse, as Mistral's API does, a conversation whose last message is the assistant's without `prefix: true`: 400 with
   * Mistral's error body (`{ object: "error", message: "Expected last role User or Tool (or Assistant with prefix True)
   * for serving but got assistant", type: "invalid_request_error", param: null, code: null }`).
   */
  mistralRoles?: boolean;
  /**
   * Refuse, as llama.cpp server does (its request parsing: a final assistant message is continued, by default or with
   * `continue_final_message`, and one carrying tool calls cannot be), a conversation whose last message is the
   * assistant's with `tool_calls`: 400 with llama.cpp's error body (`{ error: { code: 400, message: "Cannot continue an
   * assistant message that contains tool calls.", type: "invalid_request_error" } }`).
   */
  llamacppContinuation?: boolean;
}

/** One request the server received. */
export interface RecordedRequest {
  /** 0-based arrival order. */
  index: number;
  method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, or undefined when it is not JSON. */
  body: unknown;
}

/** A fixed script, a list (request n gets entry n, the last repeats), or a function of the request. */
export type OpenAIWireScriptInput =
  | OpenAIWireScript
  | readonly OpenAIWireScript[]
  | ((request: RecordedRequest, callIndex: number) => OpenAIWireScript);

export interface OpenAIWireServerOptions {
  /** Initial script (default `{}`). */
  script?: OpenAIWireScriptInput;
}

export interface OpenAIWireServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1`, for an engine's `baseURL`. */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connectionsOpened: number;
  /** TCP connections closed so far (by either side). */
  readonly socketsClosed: number;
  /** Responses the client walked away from before they were complete. */
  readonly responsesAborted: number;
  /** Replaces the script; the per-script call counter restarts at 0. */
  setScript(script: OpenAIWireScriptInput): void;
  /** Called whenever a connection closes; returns an unsubscribe function. */
  onSocketClose(listener: () => void): () => void;
  /** Resolves once `socketsClosed` reaches `count`; rejects after `timeoutMs` (default 5000). */
  waitForSocketClose(count?: number, timeoutMs?: number): Promise<void>;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

const DEFAULT_DIMENSIONS = 8;

function estimate(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  }
  return '';
}

function chatMessages(body: unknown): Array<{ role?: unknown; content?: unknown }> {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  return Array.isArray(messages) ? (messages as Array<{ role?: unknown; content?: unknown }>) : [];
}

/** `top_logprobs` (0 when absent) when the request asks for logprobs and the script answers them, else undefined. */
function wantedLogprobs(request: RecordedRequest, s: OpenAIWireScript): number | undefined {
  const body = request.body as { logprobs?: unknown; top_logprobs?: unknown } | undefined;
  if (body?.logprobs !== true || s.omitLogprobs) return undefined;
  return typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
}

/** Splits `text` into exactly `n` consecutive pieces of near-equal length. */
function splitInto(text: string, n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) pieces.push(text.slice(Math.floor((i * text.length) / count), Math.floor(((i + 1) * text.length) / count)));
  return pieces;
}

function splitWords(text: string): string[] {
  const words = text.split(/(?<=\s)/).filter((w) => w !== '');
  return words.length > 0 ? words : [''];
}

/** OpenAI's reasoning families (o-series, gpt-5 and later but `-chat`), by model id (any `provider/` prefix dropped). */
const REASONING_MODEL = /^(?:o\d+(?:-|$)|gpt-(?:[5-9]|\d{2,})(?!.*-chat(?:-|$))(?:[.-]|$))/;
/** gpt-5.1 and later (not Codex, not -pro): reasoning models that return logprobs at reasoning effort `none` (their default). */
const NONE_EFFORT_MODEL = /^(?!.*-(?:codex|pro)(?:-|$))gpt-(?:5\.\d+|[6-9]|\d{2,})(?:[.-]|$)/;
/**
 * The models that take every verbosity: gpt-5 and later but gpt-5-chat and the Codex models up to gpt-5.2-codex
 * (gpt-5.3-codex and later take all three).
 */
const VERBOSE_MODEL = /^(?!gpt-5(?:-chat|(?:\.[12])?-codex)(?:-|$))gpt-(?:[5-9]|\d{2,})(?:[.-]|$)/;
/** gpt-5-chat(-latest): reported to refuse logprobs (not verified against the API); refused here as the engine assumes. */
const NO_LOGPROBS_MODEL = /^gpt-5-chat(?:-|$)/;

function modelFamily(model: string): string {
  return (model.split('/').pop() ?? model).toLowerCase();
}

/** Python's repr of a tuple of strings, as OpenAI names a place in a schema: `()`, `('properties', 'a')`. */
function contextOf(path: readonly string[]): string {
  return path.length === 1 ? `('${path[0]}',)` : `(${path.map((p) => `'${p}'`).join(', ')})`;
}

/**
 * The first rule of OpenAI's strict mode `schema` breaks, as OpenAI words it: every object schema needs
 * `additionalProperties: false` and a `required` listing every key of its `properties` (the subset checked here;
 * OpenAI checks more, e.g. unsupported keywords). Walks `properties`, `items`, `anyOf` and `$defs`.
 */
function strictSchemaProblem(schema: unknown, path: string[] = []): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const node = schema as Record<string, unknown>;
  const where = `In context=${contextOf(path)}`;
  if (node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'))) {
    if (node.additionalProperties !== false) return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
    const keys = typeof node.properties === 'object' && node.properties !== null ? Object.keys(node.properties) : [];
    const required = Array.isArray(node.required) ? node.required : undefined;
    const missing = keys.find((k) => !required?.includes(k));
    if (missing !== undefined) return `${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
  }
  const props = node.properties;
  if (typeof props === 'object' && props !== null) {
    for (const [key, sub] of Object.entries(props)) {
      const problem = strictSchemaProblem(sub, [...path, 'properties', key]);
      if (problem) return problem;
    }
  }
  const nested: Array<[string, unknown]> = [['items', node.items]];
  if (Array.isArray(node.anyOf)) node.anyOf.forEach((sub, i) => nested.push([`anyOf/${i}`, sub]));
  if (typeof node.$defs === 'object' && node.$defs !== null) for (const [key, sub] of Object.entries(node.$defs)) nested.push([`$defs/${key}`, sub]);
  for (const [at, sub] of nested) {
    const problem = strictSchemaProblem(sub, [...path, ...at.split('/')]);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * OpenAI's 400 to a strict schema its strict mode cannot enforce: a `tools.N.function` with `strict: true`
 * ("Invalid schema for function 'f': In context=(), 'additionalProperties' is required to be supplied and to be
 * false.", param `tools[N].function.parameters`, code `invalid_function_parameters`), or a
 * `response_format.json_schema` with `strict: true` ("Invalid schema for response_format 'name': ...", param
 * `response_format`).
 */
function strictSchemaRefusal(body: Record<string, unknown>): OpenAIWireError | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ function?: { name?: unknown; parameters?: unknown; strict?: unknown } }>) : [];
  for (let i = 0; i < tools.length; i++) {
    const fn = tools[i]?.function;
    if (fn?.strict !== true) continue;
    const problem = strictSchemaProblem(fn.parameters ?? { type: 'object', properties: {} });
    if (problem) return { status: 400, message: `Invalid schema for function '${String(fn.name)}': ${problem}`, param: `tools[${i}].function.parameters`, code: 'invalid_function_parameters' };
  }
  const format = body.response_format as { type?: unknown; json_schema?: { name?: unknown; schema?: unknown; strict?: unknown } } | undefined;
  if (format?.type === 'json_schema' && format.json_schema?.strict === true) {
    const problem = strictSchemaProblem(format.json_schema.schema);
    if (problem) return { status: 400, message: `Invalid schema for response_format '${String(format.json_schema.name)}': ${problem}`, param: 'response_format', code: null };
  }
  return undefined;
}

/**
 * The 400 OpenAI's API answers to these request fields, or undefined: `top_k` (unless `acceptsTopK`),
 * `top_logprobs` without `logprobs: true`, `logprobs` on a reasoning model (gpt-5.1 and later at reasoning effort
 * `none` excepted) or gpt-5-chat-latest (reported, not verified), a `verbosity` other than `medium` to a model before
 * gpt-5 (or gpt-5-chat, a Codex model up to gpt-5.2-codex); first, a strict schema strict mode cannot enforce
 * (`strictSchemaRefusal`).
 */
function refusal(body: Record<string, unknown>, s: OpenAIWireScript, model: string): OpenAIWireError | undefined {
  if (s.mistralRoles) {
    const last = Array.isArray(body.messages) ? (body.messages.at(-1) as Record<string, unknown> | undefined) : undefined;
    if (last?.role === 'assistant' && last.prefix !== true) {
      const message = 'Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant';
      return { status: 400, body: { object: 'error', message, type: 'invalid_request_error', param: null, code: null } };
    }
  }
  if (s.llamacppContinuation) {
    const last = Array.isArray(body.messages) ? (body.messages.at(-1) as Record<string, unknown> | undefined) : undefined;
    if (last?.role === 'assistant' && Array.isArray(last.tool_calls) && last.tool_calls.length > 0) {
      const message = 'Cannot continue an assistant message that contains tool calls.';
      return { status: 400, body: { error: { code: 400, message, type: 'invalid_request_error' } } };
    }
  }
  const strict = strictSchemaRefusal(body);
  if (strict) return strict;
  if (Object.hasOwn(body, 'top_k') && !s.acceptsTopK) return { status: 400, message: 'Unrecognized request argument supplied: top_k', param: null };
  if (body.top_logprobs != null && body.logprobs !== true) {
    return { status: 400, message: "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.", param: 'top_logprobs', code: 'invalid_value' };
  }
  const family = modelFamily(model);
  if (body.logprobs === true && NO_LOGPROBS_MODEL.test(family)) {
    return { status: 400, message: "Unsupported parameter: 'logprobs' is not supported with this model.", param: 'logprobs', code: 'unsupported_parameter' };
  }
  if (body.logprobs === true && REASONING_MODEL.test(family)) {
    const effort = body.reasoning_effort;
    if (!(NONE_EFFORT_MODEL.test(family) && (effort === undefined || effort === 'none'))) {
      return { status: 400, message: "Unsupported parameter: 'logprobs' is not supported with this model.", param: 'logprobs', code: 'unsupported_parameter' };
    }
  }
  const verbosity = body.verbosity;
  if (verbosity !== undefined && verbosity !== 'medium' && !VERBOSE_MODEL.test(family)) {
    return { status: 400, message: `Unsupported value: 'verbosity' does not support '${String(verbosity)}' with this model. Supported values are: 'medium'.`, param: 'verbosity', code: 'unsupported_value' };
  }
  return undefined;
}

/**
 * The test server's own log probabilities (not a model's): each token (a word with its trailing space, as
 * `splitWords` cuts a piece) gets `-(sum of its UTF-16 code units mod 97 + 1) / 100`, its UTF-8 `bytes`, and,
 * with `top` > 0, `top` candidates: the token itself, then `<token>~1`, `<token>~2`... each 1 lower.
 */
export function wireLogprobs(piece: string, top: number): Array<{ token: string; logprob: number; bytes: number[]; top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }> }> {
  return piece
    .split(/(?<=\s)/)
    .filter((t) => t !== '')
    .map((token) => {
      let sum = 0;
      for (let i = 0; i < token.length; i++) sum += token.charCodeAt(i);
      const logprob = -((sum % 97) + 1) / 100;
      const alternatives = [];
      for (let i = 0; i < top; i++) {
        const alt = i === 0 ? token : `${token}~${i}`;
        alternatives.push({ token: alt, logprob: logprob - i, bytes: [...Buffer.from(alt, 'utf8')] });
      }
      return { token, logprob, bytes: [...Buffer.from(token, 'utf8')], top_logprobs: alternatives };
    });
}

/** Deterministic unit vector for a text (hash of characters), for embeddings. */
function fakeEmbedding(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  for (let i = 0; i < text.length; i++) {
    const h = Math.imul(text.charCodeAt(i) + 31 * i, 2654435761) >>> 0;
    v[h % dims]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/**
 * A local HTTP server on 127.0.0.1 (random port) that speaks the OpenAI wire format, for tests and
 * benchmarks: `POST .../chat/completions` (JSON or SSE, by the request's `stream`), `POST .../embeddings`,
 * `GET .../models`. Any path prefix works (`/v1/...`, Azure's `/openai/deployments/<d>/...`).
 * Each request is answered as the current script says: normal answer, streamed chunks with delays,
 * delay before answering, error status with an OpenAI error body and headers, a cut connection, a hang.
 * It records every request and counts connections, so tests can assert that an abort closed the socket.
 *
 * @example
 * ```ts
 * const server = await startOpenAIWireServer({ script: { text: 'Hello there', chunks: 4, chunkDelayMs: 5 } });
 * try {
 *   const res = await fetch(`${server.baseURL}/chat/completions`, {
 *     method: 'POST',
 *     headers: { 'content-type': 'application/json' },
 *     body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
 *   });
 *   console.log(await res.text()); // 4 `data:` chunks, a finish chunk, `data: [DONE]`
 *   server.setScript([{ error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '1' } } }, {}]);
 *   // first call -> 429, later calls -> normal answers
 *   console.log(server.requests.length); // 1
 * } finally {
 *   await server.close();
 * }
 * ```
 */
export async function startOpenAIWireServer(options: OpenAIWireServerOptions = {}): Promise<OpenAIWireServer> {
  let script: OpenAIWireScriptInput = options.script ?? {};
  let callIndex = 0;
  let responseCounter = 0;
  let responsesAborted = 0;
  const requests: RecordedRequest[] = [];
  const kit = new WireServerKit((res, e) => sendError(res, { status: 500, message: `wire server failure: ${String(e)}` }));

  function scriptFor(request: RecordedRequest): OpenAIWireScript {
    const n = callIndex++;
    if (typeof script === 'function') return script(request, n);
    if (Array.isArray(script)) {
      const list = script as readonly OpenAIWireScript[];
      return list[Math.min(n, list.length - 1)] ?? {};
    }
    return script as OpenAIWireScript;
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function sendError(res: ServerResponse, error: OpenAIWireError, headers: Record<string, string> = {}): void {
    const body =
      error.body !== undefined
        ? error.body
        : {
            error: {
              message: error.message ?? `scripted error ${error.status}`,
              type: error.type ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error'),
              param: error.param ?? null,
              code: error.code ?? null,
            },
          };
    sendJson(res, error.status, body, { ...headers, ...error.headers });
  }

  function chatEvents(request: RecordedRequest, s: OpenAIWireScript, model: string, id: string, text: string, usage: OpenAIWireUsage | null): string[] {
    const body = request.body as { stream_options?: { include_usage?: unknown } } | undefined;
    const mode = s.streamUsage ?? 'requested';
    const includeRequested = body?.stream_options?.include_usage === true;
    const created = 1_700_000_000;
    const base = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_wire_test', choices, ...(includeRequested ? { usage: null } : {}), ...extra })}\n\n`;
    const choice = (delta: Record<string, unknown>, finish: string | null = null, logprobs: unknown = null) => ({ index: 0, delta, logprobs, finish_reason: finish });
    const top = wantedLogprobs(request, s);

    const events: string[] = [];
    let first = true;
    const withRole = (delta: Record<string, unknown>) => {
      const d = first ? { role: 'assistant', ...delta } : delta;
      first = false;
      return d;
    };
    if (s.reasoning) for (const piece of splitWords(s.reasoning)) events.push(base([choice(withRole({ reasoning_content: piece }))]));
    const toolCalls = s.toolCalls ?? [];
    if (text !== '' || toolCalls.length === 0) {
      const pieces = s.chunks !== undefined ? splitInto(text, s.chunks) : splitWords(text);
      for (const piece of pieces) {
        const tokens = top !== undefined && piece !== '' ? { content: wireLogprobs(piece, top), refusal: null } : null;
        events.push(base([choice(withRole({ content: piece }), null, tokens)]));
      }
    }
    toolCalls.forEach((call, index) => {
      const callId = call.id ?? `call_${index}`;
      events.push(base([choice(withRole({ tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] }))]));
      for (const piece of splitInto(call.arguments, s.toolArgumentChunks ?? 3)) {
        events.push(base([choice({ tool_calls: [{ index, function: { arguments: piece } }] })]));
      }
    });
    const finish = s.finishReason === undefined ? (toolCalls.length > 0 ? 'tool_calls' : 'stop') : s.finishReason;
    const usageOnFinish = mode === 'always' && usage ? { usage: { ...usage, total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens } } : {};
    if (finish !== null) events.push(base([choice({}, finish)], usageOnFinish));
    if (mode === 'requested' && includeRequested && usage) {
      events.push(base([], { usage: { ...usage, total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens } }));
    }
    if (!s.omitDone) events.push('data: [DONE]\n\n');
    return events;
  }

  async function handleChat(req: RecordedRequest, res: ServerResponse, s: OpenAIWireScript): Promise<void> {
    const body = req.body as { model?: unknown; stream?: unknown } | undefined;
    const model = s.model ?? (typeof body?.model === 'string' ? body.model : 'test-model');
    const id = s.id ?? `chatcmpl-test-${++responseCounter}`;
    const messages = chatMessages(req.body);
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const text = s.text ?? (s.toolCalls?.length ? '' : `echo: ${contentText(lastUser?.content)}`);
    const promptTokens = estimate(messages.map((m) => contentText(m.content)).join(''));
    const completionTokens = estimate(text + (s.reasoning ?? '') + (s.toolCalls ?? []).map((c) => c.name + c.arguments).join(''));
    const usage = s.usage === null ? null : (s.usage ?? { prompt_tokens: promptTokens, completion_tokens: completionTokens });

    if (s.rawSSE !== undefined || (body?.stream === true && s.ignoresStream !== true)) {
      const events =
        s.rawSSE !== undefined
          ? s.rawSSE
              .split(/\r?\n\r?\n/)
              .filter((e) => e.trim() !== '')
              .map((e) => `${e}\n\n`)
          : chatEvents(req, s, model, id, text, s.streamUsage === 'never' ? null : usage);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...s.headers });
      res.flushHeaders();
      if (await kit.writeFrames(res, events, { delayMs: s.chunkDelayMs, cutAt: s.cutAfterChunks, hangAt: s.hangAfterChunks })) res.end();
      return;
    }

    if (s.json !== undefined) {
      sendJson(res, 200, s.json, s.headers);
      return;
    }
    const toolCalls = (s.toolCalls ?? []).map((c, i) => ({ id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    const finish = s.finishReason === undefined ? (toolCalls.length > 0 ? 'tool_calls' : 'stop') : s.finishReason;
    sendJson(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created: 1_700_000_000,
        model,
        system_fingerprint: 'fp_wire_test',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: text === '' && toolCalls.length > 0 ? null : text,
              ...(s.reasoning ? { reasoning_content: s.reasoning } : {}),
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            },
            logprobs: (() => {
              const top = wantedLogprobs(req, s);
              if (top === undefined) return null;
              const pieces = s.chunks !== undefined ? splitInto(text, s.chunks) : splitWords(text);
              return { content: pieces.flatMap((p) => (p === '' ? [] : wireLogprobs(p, top))), refusal: null };
            })(),
            finish_reason: finish,
          },
        ],
        ...(usage ? { usage: { ...usage, total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens } } : {}),
      },
      s.headers,
    );
  }

  function handleEmbeddings(req: RecordedRequest, res: ServerResponse, s: OpenAIWireScript): void {
    const body = req.body as { input?: unknown; model?: unknown; dimensions?: unknown } | undefined;
    // As OpenAI takes it: a string, strings, one array of token ids, or arrays of them (each counts its length).
    const raw = body?.input;
    const ids = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && (t as number) >= 0);
    const units: Array<{ text: string; tokens: number }> =
      typeof raw === 'string'
        ? [{ text: raw, tokens: estimate(raw) }]
        : ids(raw)
          ? [{ text: raw.join(' '), tokens: raw.length }]
          : Array.isArray(raw) && raw.every(ids)
            ? raw.map((t) => ({ text: t.join(' '), tokens: t.length }))
            : Array.isArray(raw) && raw.every((t) => typeof t === 'string')
              ? raw.map((t) => ({ text: t, tokens: estimate(t) }))
              : [];
    if (units.length === 0) {
      sendError(res, { status: 400, message: "'input' must be a non-empty string, array of strings, or array of token arrays", param: 'input' });
      return;
    }
    const asked = body?.dimensions;
    if (asked !== undefined && !(Number.isInteger(asked) && (asked as number) > 0)) {
      sendError(res, { status: 400, message: "'dimensions' must be a positive integer", param: 'dimensions' });
      return;
    }
    const dims = (s.ignoresDimensions ? undefined : (asked as number | undefined)) ?? s.embeddingDimensions ?? DEFAULT_DIMENSIONS;
    const input = units.map((u) => u.text);
    const tokens = units.reduce((n, u) => n + u.tokens, 0);
    sendJson(
      res,
      200,
      {
        object: 'list',
        data: input.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t, dims) })),
        model: s.model ?? (typeof body?.model === 'string' ? body.model : 'test-embedding'),
        ...(s.usage === null ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
      },
      s.headers,
    );
  }

  async function handle(incoming: IncomingMessage, res: ServerResponse, { rawBody, json: body }: WireBody): Promise<void> {
    const recorded: RecordedRequest = { index: requests.length, method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, rawBody, body };
    requests.push(recorded);
    kit.watch(res, ({ finished }) => {
      if (!finished) responsesAborted++;
    });
    const path = recorded.url.split('?')[0] ?? '';

    if (recorded.method === 'GET' && path.endsWith('/models')) {
      sendJson(res, 200, { object: 'list', data: [{ id: 'test-model', object: 'model', created: 1_700_000_000, owned_by: 'llmrr-test' }] });
      return;
    }
    const kind = path.endsWith('/chat/completions') ? 'chat' : path.endsWith('/embeddings') ? 'embeddings' : undefined;
    if (recorded.method !== 'POST' || kind === undefined) {
      sendError(res, { status: 404, message: `Unknown request URL: ${recorded.method} ${path}`, code: 'unknown_url' });
      return;
    }
    if (body === undefined) {
      sendError(res, { status: 400, message: 'We could not parse the JSON body of your request.' });
      return;
    }
    const s = scriptFor(recorded);
    if (s.delayMs && !(await kit.wait(s.delayMs, res))) return;
    if (s.hang) return;
    if (s.error) {
      sendError(res, s.error, s.headers);
      return;
    }
    if (kind === 'chat') {
      const chatBody = body as Record<string, unknown>;
      // The model: the script's, the body's, else an Azure path's deployment (`/openai/deployments/<d>/...`).
      const deployment = /\/deployments\/([^/]+)\//.exec(path)?.[1];
      const model = s.model ?? (typeof chatBody?.model === 'string' ? chatBody.model : deployment !== undefined ? decodeURIComponent(deployment) : 'test-model');
      const refused = typeof chatBody === 'object' && chatBody !== null ? refusal(chatBody, s, model) : undefined;
      if (refused) sendError(res, refused, s.headers);
      else await handleChat(recorded, res, s);
    }
    else handleEmbeddings(recorded, res, s);
  }

  const url = await kit.listen(handle);

  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    get connectionsOpened() {
      return kit.connectionsOpened;
    },
    get socketsClosed() {
      return kit.socketsClosed;
    },
    get responsesAborted() {
      return responsesAborted;
    },
    setScript(next) {
      script = next;
      callIndex = 0;
    },
    onSocketClose(listener) {
      return kit.onSocketClose(listener);
    },
    waitForSocketClose(count = 1, timeoutMs = 5_000) {
      return kit.waitUntil(
        () => kit.socketsClosed >= count,
        timeoutMs,
        () => `waitForSocketClose: ${kit.socketsClosed} of ${count} sockets closed after ${timeoutMs} ms`,
      );
    },
    close() {
      return kit.close();
    },
  };
}
