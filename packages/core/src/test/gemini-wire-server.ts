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
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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

export interface GeminiWireRequest {
  method: string;
  /** Path without the query string, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** `models/...` from the path, when the route matched. */
  model: string | undefined;
  /** The RPC after the colon (`generateContent`, `streamGenerateContent`, `batchEmbedContents`, `countTokens`), when the route matched. */
  rpc: string | undefined;
  /** The JSON body, parsed (undefined when empty or not a JSON object). */
  body: Record<string, unknown> | undefined;
  rawBody: string;
  /** SSE chunks written so far. */
  eventsSent: number;
  /** True when the client closed the connection before the response was complete (abort, early cancel). */
  clientClosed: boolean;
  /** Resolves when the response is over: completed, or cut by either side. */
  done: Promise<void>;
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
}

export interface GeminiWireServer {
  /** `http://127.0.0.1:<port>`: the baseURL for clients. */
  readonly url: string;
  readonly requests: GeminiWireRequest[];
  /** Client connections that have closed so far. */
  readonly closedSockets: number;
  enqueue(...replies: GeminiWireReply[]): void;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Closes every connection (ending hanging responses) and the server. */
  close(): Promise<void>;
}

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

function split(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(Math.floor(n), chars.length));
  const size = Math.ceil(chars.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces.length > 0 ? pieces : [''];
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

/** The non-streamed generateContent answer for a reply. */
export function geminiResponseBody(reply: GeminiWireReply, body: Record<string, unknown>, model: string, responseId = 'wire-response-0'): Record<string, unknown> {
  const parts = partsOf(reply, body);
  const meta = { modelVersion: reply.modelVersion ?? model.replace(/^(?:models|tunedModels)\//, ''), responseId: reply.responseId ?? responseId };
  if (reply.promptBlockReason) return { promptFeedback: { blockReason: reply.promptBlockReason }, usageMetadata: usageOf(reply, body, []), ...meta };
  return {
    candidates: [{ content: { parts, role: 'model' }, finishReason: reply.finishReason ?? 'STOP', index: 0 }],
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
  const pieces: GeminiWirePart[] = [];
  for (const p of parts) {
    if ('text' in p) for (const text of split(p.text, reply.chunks ?? 1)) pieces.push(p.thought ? { text, thought: true } : { text });
    else pieces.push(p);
  }
  if (pieces.length === 0) pieces.push({ text: '' });
  return pieces.map((part, i) => {
    const last = i === pieces.length - 1;
    const candidate: Record<string, unknown> = { content: { parts: [part], role: 'model' }, index: 0 };
    if (last) candidate.finishReason = reply.finishReason ?? 'STOP';
    const partial = last ? usage : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount };
    return { candidates: [candidate], usageMetadata: partial, ...meta };
  });
}

const ROUTE = /^\/(v1beta|v1)\/((?:models|tunedModels)\/[^:/]+):([A-Za-z]+)$/;

/** Starts the server on 127.0.0.1 and a free port. Close it in afterAll/afterEach. */
export async function startGeminiWireServer(options: GeminiWireServerOptions = {}): Promise<GeminiWireServer> {
  const queue = [...(options.replies ?? [])];
  const requests: GeminiWireRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();
  const cutByServer = new WeakSet<ServerResponse>();
  let closedSockets = 0;
  let closing = false;
  let responseCount = 0;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function cut(res: ServerResponse): void {
    cutByServer.add(res);
    res.socket?.destroy();
  }

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
    const gone = () => closing || res.destroyed || record.clientClosed;
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0 && reply.delayMs) await pause(reply.delayMs);
      if (gone()) return;
      if (reply.streamError && i === reply.streamError.afterEvents) {
        const e = reply.streamError;
        const status = e.status ?? 503;
        res.end(`data: ${JSON.stringify(geminiErrorBody({ status, rpcStatus: e.rpcStatus, message: e.message }))}\r\n\r\n`);
        record.eventsSent++;
        return;
      }
      if (reply.endAfterEvents === i) return void res.end();
      if (reply.hangAfterEvents === i) return;
      if (reply.cutAfterEvents === i) return cut(res);
      await new Promise<void>((resolve) => res.write(`data: ${JSON.stringify(chunks[i])}\r\n\r\n`, () => resolve()));
      record.eventsSent++;
    }
    if (reply.cutAfterEvents !== undefined && reply.cutAfterEvents >= chunks.length) return cut(res);
    if (reply.hangAfterEvents !== undefined && reply.hangAfterEvents >= chunks.length) return;
    res.end();
  }

  async function generate(res: ServerResponse, record: GeminiWireRequest, model: string, streaming: boolean): Promise<void> {
    const body = record.body!;
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return sendError(res, { status: 400, message: '* GenerateContentRequest.contents: contents is not specified\n' });
    }
    const reply = queue.shift() ?? (options.handler ? await options.handler(record) : {});
    if (reply.hang) return;
    const responseId = `wire-response-${responseCount++}`;
    if (streaming && record.query.alt === 'sse' && !reply.error) return stream(res, record, reply, geminiStreamChunks(reply, body, model, responseId));
    if (reply.delayMs) await pause(reply.delayMs);
    if (closing || res.destroyed) return;
    if (reply.error) return sendError(res, reply.error);
    const payload = streaming ? geminiStreamChunks(reply, body, model, responseId) : geminiResponseBody(reply, body, model, responseId);
    sendJson(res, 200, payload, reply.headers);
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

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = rawBody ? JSON.parse(rawBody) : undefined;
        body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      const route = ROUTE.exec(url.pathname);
      let resolveDone!: () => void;
      const record: GeminiWireRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        model: route?.[2],
        rpc: route?.[3],
        body,
        rawBody,
        eventsSent: 0,
        clientClosed: false,
        done: new Promise<void>((r) => (resolveDone = r)),
      };
      res.on('close', () => {
        if (!res.writableFinished && !closing && !cutByServer.has(res)) record.clientClosed = true;
        resolveDone();
      });
      requests.push(record);
      for (const w of waiters) w();

      const model = route?.[2];
      const method = route?.[3];
      const known = ['generateContent', 'streamGenerateContent', 'batchEmbedContents', 'countTokens'];
      if (req.method !== 'POST' || !model || !method || !known.includes(method)) {
        return sendError(res, { status: 404, message: `Method not found: ${req.method} ${url.pathname}` });
      }
      const header = req.headers['x-goog-api-key'];
      const key = typeof header === 'string' && header !== '' ? header : url.searchParams.get('key');
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
      if (body === undefined) return sendError(res, { status: 400, message: 'Invalid JSON payload received.' });
      let work: Promise<void>;
      if (method === 'generateContent' || method === 'streamGenerateContent') work = generate(res, record, model, method === 'streamGenerateContent');
      else if (method === 'batchEmbedContents') work = Promise.resolve(embed(res, record, model));
      else work = Promise.resolve(countTokens(res, record));
      work.catch((e: unknown) => {
        if (!res.headersSent) sendError(res, { status: 500, message: `wire server failure: ${String(e)}` });
        else res.destroy();
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closedSockets++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get closedSockets() {
      return closedSockets;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    waitForRequests(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`gemini wire server: ${requests.length} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
