/**
 * A local HTTP peer that speaks the Gemini API wire format (generativelanguage.googleapis.com v1beta:
 * JSON answers, `alt=sse` chunk streams, Google error bodies), scriptable per request, for tests of
 * anything that talks to Gemini. It is a test double: answers are scripted or echoed, embeddings are
 * hash vectors, token counts are character arithmetic.
 *
 * ```ts
 * const server = await startGeminiWireServer({ replies: [{ parts: 'Hi!', chunks: 3 }] });
 * // point the client at server.url (baseURL), call it, then inspect server.requests
 * await server.close();
 * ```
 *
 * Routes (`v1beta` or `v1`, `models/...` or `tunedModels/...`): POST :generateContent,
 * :streamGenerateContent (SSE with `?alt=sse`, else a JSON array), :batchEmbedContents, :countTokens.
 * Like the real API it wants a key (`x-goog-api-key` header or `key` query): none -> 403
 * PERMISSION_DENIED, a wrong one (when `apiKey` is set) -> 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
 *
 * Log probabilities (`generationConfig.responseLogprobs: true`): each non-thought text part gets a
 * `logprobsResult` (see `geminiWireLogprobs`: the server's tokens are the text split after each whitespace
 * character, and its numbers are test numbers, not a model's), streamed per chunk for that chunk's tokens, as
 * Gemini does. It refuses what the API refuses: `logprobs` outside 0..20 (an integer) and, for the models
 * `logprobsRefused` names, `responseLogprobs` with the API's 400 "Logprobs is not enabled for models/<id>".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitEven, WireServerKit, type ReplyQueueServer, type TrackedRequest, type WireBody } from './wire-server-kit.js';

/** A part of a scripted answer. */
export type GeminiWirePart =
  | { text: string; thought?: boolean }
  | { functionCall: { name: string; args?: Record<string, unknown>; id?: string }; thoughtSignature?: string };

export interface GeminiWireUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

/** An HTTP error answer with Google's body `{ error: { code, message, status, details } }`. */
export interface GeminiWireError {
  status: number;
  /** RPC status name; default from the HTTP status (429 -> RESOURCE_EXHAUSTED, 503 -> UNAVAILABLE, ...). */
  rpcStatus?: string;
  message?: string;
  details?: Array<Record<string, unknown>>;
  /** Adds a `google.rpc.RetryInfo` detail with this `retryDelay` (e.g. `"12s"`), as Gemini 429s carry. */
  retryDelay?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '3' }`. */
  headers?: Record<string, string>;
}

/** What the server does with one generateContent / streamGenerateContent request. Every field is optional. */
export interface GeminiWireReply {
  /** Answer parts; a string is one text part. Default: `Echo: <last user text>`. */
  parts?: string | GeminiWirePart[];
  /** Default `STOP`. */
  finishReason?: string;
  /** The candidate's `finishMessage` (Gemini's words on a finish other than `STOP`, e.g. "Malformed function call: ..."). */
  finishMessage?: string;
  /** Reported usage; missing numbers are derived deterministically from request and answer sizes. */
  usage?: GeminiWireUsage;
  responseId?: string;
  /** Default: the model of the request path. */
  modelVersion?: string;
  /** Answer with `promptFeedback.blockReason` (e.g. `SAFETY`) and no candidates. */
  promptBlockReason?: string;
  /** Streaming: chunks per text part (default 1). Function calls always come whole, one chunk each. */
  chunks?: number;
  /** Streaming: pause before every chunk after the first; non-streaming: pause before answering. */
  delayMs?: number;
  /** Answer with this HTTP error instead. */
  error?: GeminiWireError;
  /** Streaming: after `afterEvents` chunks, send an `{ error }` chunk (default 503 UNAVAILABLE) and end. */
  streamError?: { afterEvents: number; status?: number; rpcStatus?: string; message?: string };
  /** Streaming: destroy the connection after this many chunks. */
  cutAfterEvents?: number;
  /** Streaming: end the HTTP response cleanly after this many chunks (maybe before the finishReason chunk). */
  endAfterEvents?: number;
  /** Send nothing at all (not even headers) until the client goes away or the server closes. */
  hang?: boolean;
  /** Streaming: send this many chunks, then nothing until the client goes away or the server closes. */
  hangAfterEvents?: number;
  headers?: Record<string, string>;
}

/** A request the server received (path e.g. `/v1beta/models/gemini-2.5-flash:generateContent`), with its route's model and RPC. */
export interface GeminiWireRequest extends TrackedRequest {
  /** `models/...` from the path, when the route matched. */
  model: string | undefined;
  /** The RPC after the colon (`generateContent`, `streamGenerateContent`, `batchEmbedContents`, `countTokens`), when the route matched. */
  rpc: string | undefined;
}

export interface GeminiWireServerOptions {
  /** Replies for generate/stream requests, used in order. */
  replies?: GeminiWireReply[];
  /** Reply when the `replies` queue is empty. Default: the echo reply. */
  handler?: (request: GeminiWireRequest) => GeminiWireReply | Promise<GeminiWireReply>;
  /** When set, the key must equal it. Any non-empty key is accepted otherwise. */
  apiKey?: string;
  /** Embedding of one text. Default: a deterministic unit vector of character-trigram hashes. */
  embed?: (text: string, model: string, dimensions: number) => number[];
  /** Default dimensions of the default embedding (a request's `outputDimensionality` wins). Default 8. */
  embeddingDimensions?: number;
  /** Answer of :countTokens. Default: ceil(JSON length of contents, systemInstruction and tools / 4). */
  countTokens?: (body: Record<string, unknown>) => number;
  /**
   * Models (the id after `models/`) that answer `responseLogprobs: true` with 400 INVALID_ARGUMENT "Logprobs is not
   * enabled for models/<id>", as Gemini does for models without log probabilities (which ones has changed over
   * time: gemini-2.5-pro, gemini-2.5-flash-lite and preview models were seen refusing). Default: none.
   */
  logprobsRefused?: (modelId: string) => boolean;
  /**
   * Models (ids without `models/`) that answer a request whose `contents` end with a `model` turn with the API's 400
   * INVALID_ARGUMENT "Requests ending with a model turn are not supported.", as Gemini 3.6 Flash and 3.5 Flash-Lite do.
   * Default: none.
   */
  modelTurnRefused?: (modelId: string) => boolean;
}

export interface GeminiWireServer extends ReplyQueueServer<GeminiWireRequest, GeminiWireReply> {}

const RPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULT_MESSAGE: Record<string, string> = {
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
  UNAUTHENTICATED: 'Request had invalid authentication credentials.',
  PERMISSION_DENIED: 'The caller does not have permission',
  NOT_FOUND: 'Requested entity was not found.',
  RESOURCE_EXHAUSTED: 'Resource has been exhausted (e.g. check quota).',
  INTERNAL: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  UNAVAILABLE: 'The model is overloaded. Please try again later.',
  DEADLINE_EXCEEDED: 'The request timed out.',
};

/** Google's RPC status name for an HTTP status. */
export function geminiRpcStatusForHttp(status: number): string {
  return RPC_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
}

/** The body of a Google API error. */
export function geminiErrorBody(error: GeminiWireError): Record<string, unknown> {
  const rpc = error.rpcStatus ?? geminiRpcStatusForHttp(error.status);
  const details = [...(error.details ?? [])];
  if (error.retryDelay) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: error.retryDelay });
  return { error: { code: error.status, message: error.message ?? DEFAULT_MESSAGE[rpc] ?? 'Error', status: rpc, ...(details.length ? { details } : {}) } };
}

function lastUserText(body: Record<string, unknown>): string {
  const contents = Array.isArray(body.contents) ? (body.contents as Array<{ role?: string; parts?: Array<{ text?: string }> }>) : [];
  const last = [...contents].reverse().find((c) => c.role === 'user' || c.role === undefined);
  return (last?.parts ?? []).map((p) => p.text ?? '').join('');
}

function partsOf(reply: GeminiWireReply, body: Record<string, unknown>): GeminiWirePart[] {
  if (reply.parts === undefined) return [{ text: `Echo: ${lastUserText(body)}` }];
  if (typeof reply.parts === 'string') return [{ text: reply.parts }];
  return reply.parts;
}

function usageOf(reply: GeminiWireReply, body: Record<string, unknown>, parts: GeminiWirePart[]): Record<string, number> {
  const promptChars = JSON.stringify([body.systemInstruction ?? '', body.contents ?? [], body.tools ?? []]).length;
  const outChars = parts.reduce((n, p) => n + ('text' in p && !p.thought ? p.text.length : 'functionCall' in p ? JSON.stringify(p.functionCall).length : 0), 0);
  const u = reply.usage ?? {};
  const prompt = u.promptTokenCount ?? Math.max(1, Math.ceil(promptChars / 4));
  const candidates = u.candidatesTokenCount ?? Math.max(1, Math.ceil(outChars / 4));
  const total = prompt + candidates + (u.thoughtsTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0);
  return { ...u, promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: total } as Record<string, number>;
}

function defaultEmbedding(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const s = ` ${text.toLowerCase()} `;
  for (let i = 0; i + 3 <= s.length; i++) {
    let h = 2166136261;
    for (let j = i; j < i + 3; j++) h = Math.imul(h ^ s.charCodeAt(j), 16777619);
    v[(h >>> 0) % dims]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** The `generationConfig` of a request body, when it is an object. */
function generationConfigOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const config = body.generationConfig;
  return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : undefined;
}

/** How many top candidates per step the body asks for, or undefined when it asks for no log probabilities. */
function logprobsAsked(body: Record<string, unknown>): number | undefined {
  const config = generationConfigOf(body);
  if (config?.responseLogprobs !== true) return undefined;
  return typeof config.logprobs === 'number' ? config.logprobs : 0;
}

/**
 * The wire server's `logprobsResult` for `text`, its tokens numbered from `first` (the count of answer tokens
 * before it): the tokens are `text` split after each whitespace character; token k has `tokenId` k and
 * `logProbability` -((k % 4) + 1) / 8 (-0.125, -0.25, -0.375, -0.5, again: test numbers, exact in binary); with
 * `top` > 0, `topCandidates` lists the chosen token first, then `alt1`..`alt<top-1>`, each 1 lower than the one before.
 */
export function geminiWireLogprobs(text: string, first: number, top: number): { result: Record<string, unknown>; count: number } {
  const tokens = text.split(/(?<=\s)/).filter((t) => t !== '');
  const chosen = tokens.map((token, i) => ({ token, tokenId: first + i, logProbability: -(((first + i) % 4) + 1) / 8 }));
  const result: Record<string, unknown> = { chosenCandidates: chosen, logProbabilitySum: chosen.reduce((s, c) => s + c.logProbability, 0) };
  if (top > 0) {
    result.topCandidates = chosen.map((c) => ({
      candidates: [c, ...Array.from({ length: top - 1 }, (_, j) => ({ token: `alt${j + 1}`, tokenId: 100000 + j, logProbability: c.logProbability - (j + 1) }))],
    }));
  }
  return { result, count: tokens.length };
}

/** `text` in at most `n` pieces that end on the wire server's token boundaries (`geminiWireLogprobs`), as even as they come. */
function splitOnTokens(text: string, n: number): string[] {
  const tokens = text.split(/(?<=\s)/).filter((t) => t !== '');
  if (tokens.length === 0) return [text];
  const count = Math.max(1, Math.min(n, tokens.length));
  return Array.from({ length: count }, (_, i) => tokens.slice(Math.floor((i * tokens.length) / count), Math.floor(((i + 1) * tokens.length) / count)).join(''));
}

/** The answer text of parts (non-thought text parts joined). */
function answerText(parts: GeminiWirePart[]): string {
  return parts.map((p) => ('text' in p && !p.thought ? p.text : '')).join('');
}

/** The non-streamed generateContent answer for a reply. */
export function geminiResponseBody(reply: GeminiWireReply, body: Record<string, unknown>, model: string, responseId = 'wire-response-0'): Record<string, unknown> {
  const parts = partsOf(reply, body);
  const meta = { modelVersion: reply.modelVersion ?? model.replace(/^(?:models|tunedModels)\//, ''), responseId: reply.responseId ?? responseId };
  if (reply.promptBlockReason) return { promptFeedback: { blockReason: reply.promptBlockReason }, usageMetadata: usageOf(reply, body, []), ...meta };
  const candidate: Record<string, unknown> = { content: { parts, role: 'model' }, finishReason: reply.finishReason ?? 'STOP', index: 0 };
  if (reply.finishMessage !== undefined) candidate.finishMessage = reply.finishMessage;
  const top = logprobsAsked(body);
  if (top !== undefined) candidate.logprobsResult = geminiWireLogprobs(answerText(parts), 0, top).result;
  return {
    candidates: [candidate],
    usageMetadata: usageOf(reply, body, parts),
    ...meta,
  };
}

/**
 * The chunks of a streamed answer, as Gemini sends them: text split into `chunks` pieces, each function
 * call in a chunk of its own, `usageMetadata` on every chunk, the `finishReason` on the last.
 */
export function geminiStreamChunks(reply: GeminiWireReply, body: Record<string, unknown>, model: string, responseId = 'wire-response-0'): Array<Record<string, unknown>> {
  if (reply.promptBlockReason) return [geminiResponseBody(reply, body, model, responseId)];
  const parts = partsOf(reply, body);
  const usage = usageOf(reply, body, parts);
  const meta = { modelVersion: reply.modelVersion ?? model.replace(/^(?:models|tunedModels)\//, ''), responseId: reply.responseId ?? responseId };
  const top = logprobsAsked(body);
  const pieces: GeminiWirePart[] = [];
  for (const p of parts) {
    // With log probabilities, chunks end on token boundaries (as Gemini's do): the tokens split into `chunks` runs.
    const split = top !== undefined && 'text' in p && !p.thought ? splitOnTokens : splitEven;
    if ('text' in p) for (const text of split(p.text, reply.chunks ?? 1)) pieces.push(p.thought ? { text, thought: true } : { text });
    else pieces.push(p);
  }
  if (pieces.length === 0) pieces.push({ text: '' });
  let tokens = 0;
  return pieces.map((part, i) => {
    const last = i === pieces.length - 1;
    const candidate: Record<string, unknown> = { content: { parts: [part], role: 'model' }, index: 0 };
    if (top !== undefined && 'text' in part && !part.thought && part.text !== '') {
      const { result, count } = geminiWireLogprobs(part.text, tokens, top);
      candidate.logprobsResult = result;
      tokens += count;
    }
    if (last) candidate.finishReason = reply.finishReason ?? 'STOP';
    if (last && reply.finishMessage !== undefined) candidate.finishMessage = reply.finishMessage;
    const partial = last ? usage : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount };
    return { candidates: [candidate], usageMetadata: partial, ...meta };
  });
}

const ROUTE = /^\/(v1beta|v1)\/((?:models|tunedModels)\/[^:/]+):([A-Za-z]+)$/;

/** Starts the server on 127.0.0.1 and a free port. Close it in afterAll/afterEach. */
export async function startGeminiWireServer(options: GeminiWireServerOptions = {}): Promise<GeminiWireServer> {
  const queue = [...(options.replies ?? [])];
  const requests: GeminiWireRequest[] = [];
  let responseCount = 0;
  const kit = new WireServerKit((res, e) => sendError(res, { status: 500, message: `wire server failure: ${String(e)}` }));

  function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(payload));
  }

  function sendError(res: ServerResponse, error: GeminiWireError): void {
    sendJson(res, error.status, geminiErrorBody(error), error.headers);
  }

  async function stream(res: ServerResponse, record: GeminiWireRequest, reply: GeminiWireReply, chunks: Array<Record<string, unknown>>): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
    res.flushHeaders();
    const e = reply.streamError;
    const errorFrame = e && `data: ${JSON.stringify(geminiErrorBody({ status: e.status ?? 503, rpcStatus: e.rpcStatus, message: e.message }))}\r\n\r\n`;
    return kit.streamReply(res, record, reply, chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`), errorFrame);
  }

  async function generate(res: ServerResponse, record: GeminiWireRequest, model: string, streaming: boolean): Promise<void> {
    const body = record.body!;
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return sendError(res, { status: 400, message: '* GenerateContentRequest.contents: contents is not specified\n' });
    }
    const problem = logprobsProblem(body, model);
    if (problem) return sendError(res, { status: 400, message: problem });
    const lastTurn = (body.contents as Array<{ role?: unknown }>).at(-1);
    if (lastTurn?.role === 'model' && options.modelTurnRefused?.(model.replace(/^(?:models|tunedModels)\//, ''))) {
      return sendError(res, { status: 400, message: 'Requests ending with a model turn are not supported.' });
    }
    const reply = queue.shift() ?? (options.handler ? await options.handler(record) : {});
    if (reply.hang) return;
    const responseId = `wire-response-${responseCount++}`;
    if (streaming && record.query.alt === 'sse' && !reply.error) return stream(res, record, reply, geminiStreamChunks(reply, body, model, responseId));
    if (reply.delayMs) await kit.wait(reply.delayMs, res);
    if (kit.closing || res.destroyed) return;
    if (reply.error) return sendError(res, reply.error);
    const payload = streaming ? geminiStreamChunks(reply, body, model, responseId) : geminiResponseBody(reply, body, model, responseId);
    sendJson(res, 200, payload, reply.headers);
  }

  /** The 400 message for log probabilities the API refuses, or undefined. */
  function logprobsProblem(body: Record<string, unknown>, model: string): string | undefined {
    const config = generationConfigOf(body);
    const top = config?.logprobs;
    if (top !== undefined && !(typeof top === 'number' && Number.isInteger(top) && top >= 0 && top <= 20)) {
      return `* GenerateContentRequest.generation_config.logprobs: must be an integer in the range [0, 20], got ${JSON.stringify(top)}\n`;
    }
    if (config?.responseLogprobs === true && options.logprobsRefused?.(model.replace(/^(?:models|tunedModels)\//, ''))) return `Logprobs is not enabled for ${model}`;
    return undefined;
  }

  function embed(res: ServerResponse, record: GeminiWireRequest, model: string): void {
    const list = record.body!.requests;
    if (!Array.isArray(list) || list.length === 0) return sendError(res, { status: 400, message: '* BatchEmbedContentsRequest.requests: requests is not specified' });
    if (list.length > 100) return sendError(res, { status: 400, message: '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch' });
    const embeddings: Array<{ values: number[] }> = [];
    for (const [i, r] of (list as Array<{ model?: string; content?: { parts?: Array<{ text?: string }> }; outputDimensionality?: number }>).entries()) {
      if (r.model !== model) {
        return sendError(res, { status: 400, message: `* BatchEmbedContentsRequest.requests[${i}].model: model "${r.model}" does not match the batch model "${model}"` });
      }
      const text = (r.content?.parts ?? []).map((p) => p.text ?? '').join('');
      const dims = r.outputDimensionality ?? options.embeddingDimensions ?? 8;
      embeddings.push({ values: options.embed ? options.embed(text, model, dims) : defaultEmbedding(text, dims) });
    }
    sendJson(res, 200, { embeddings });
  }

  function countTokens(res: ServerResponse, record: GeminiWireRequest): void {
    const body = record.body!;
    const inner = (typeof body.generateContentRequest === 'object' && body.generateContentRequest !== null ? body.generateContentRequest : body) as Record<string, unknown>;
    if (!Array.isArray(inner.contents)) return sendError(res, { status: 400, message: '* CountTokensRequest: contents or generateContentRequest is required' });
    const total = options.countTokens ? options.countTokens(body) : Math.ceil(JSON.stringify([inner.systemInstruction ?? '', inner.contents, inner.tools ?? []]).length / 4);
    sendJson(res, 200, { totalTokens: total });
  }

  function handle(req: IncomingMessage, res: ServerResponse, wire: WireBody): Promise<void> | void {
    const tracked = kit.track(req, res, wire);
    const route = ROUTE.exec(tracked.path);
    const record: GeminiWireRequest = Object.assign(tracked, { model: route?.[2], rpc: route?.[3] });
    requests.push(record);
    kit.notify();

    const model = route?.[2];
    const method = route?.[3];
    const known = ['generateContent', 'streamGenerateContent', 'batchEmbedContents', 'countTokens'];
    if (req.method !== 'POST' || !model || !method || !known.includes(method)) {
      return sendError(res, { status: 404, message: `Method not found: ${req.method} ${record.path}` });
    }
    const header = req.headers['x-goog-api-key'];
    const key = typeof header === 'string' && header !== '' ? header : record.query.key;
    if (!key) {
      return sendError(res, {
        status: 403,
        message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      });
    }
    if (options.apiKey !== undefined && key !== options.apiKey) {
      return sendError(res, {
        status: 400,
        message: 'API key not valid. Please pass a valid API key.',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
      });
    }
    if (record.body === undefined) return sendError(res, { status: 400, message: 'Invalid JSON payload received.' });
    if (method === 'batchEmbedContents') return embed(res, record, model);
    if (method === 'countTokens') return countTokens(res, record);
    return generate(res, record, model, method === 'streamGenerateContent');
  }

  await kit.listen(handle);
  return kit.replyQueueServer('gemini wire server', requests, queue);
}
