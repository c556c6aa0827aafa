import { LLMError } from '@llmrr/core';
import { RequestError } from '@hono/node-server';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody, errorReply, errorResponse, errorStatus, type ErrorStyle } from '../http/error-body.js';
import { tooLarge } from '../http/incoming.js';
import { unsupportedCoding } from '../http/read-json-body.js';
import { answeredWhileReading, arrived, latestArrived } from './node-incoming.js';
import { stopLingering, writeReply } from './write-reply.js';

/** What node:http's parser reports (`llhttp` codes such as `HPE_HEADER_OVERFLOW`, its reason, the bytes it was parsing). */
interface ParserError extends Error {
  code?: string;
  reason?: string;
  rawPacket?: unknown;
  /** Offset in `rawPacket` where parsing failed. */
  bytesParsed?: number;
}

/** What an error answer needs of a request's head: its path, its one Origin, whether it says `anthropic-version`. */
interface Head {
  path: string | undefined;
  origin: string | undefined;
  anthropic: boolean;
}

/** At most this much of a packet is read for a head (node:http's default limit of a head is 16 KB). */
const HEAD_SCAN_BYTES = 32 * 1024;

/**
 * The head of a request node:http could not parse (headers too large, a malformed header...), as far as the bytes it
 * was parsing (`rawPacket`) show it: its path when they start with the request line, and its Origin when they hold
 * exactly one (none when the head came in several packets and its start is gone). With `failedAt`, the head is the
 * last one starting before that offset (requests pipelined before it in the same packet). Only read to answer the error.
 */
export function headOf(raw: unknown, failedAt?: number): Head | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  // Requests read whole before the failing one (pipelined, `failedAt` given: the parser's offset of the failure) came in
  // the same packet: the failing head is the last request line before that offset.
  const start = failedAt === undefined ? 0 : lastRequestLine(raw, failedAt);
  if (start < 0) return undefined;
  const text = raw.toString('latin1', start, Math.min(raw.length, start + HEAD_SCAN_BYTES));
  const line = REQUEST_LINE.exec(text);
  if (!line) return undefined;
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(line[0].length, end < 0 ? text.length : end).split('\r\n');
  let origin: string | undefined;
  let origins = 0;
  let anthropic = false;
  for (const l of lines) {
    const colon = l.indexOf(':');
    if (colon < 0) continue;
    const name = l.slice(0, colon).toLowerCase();
    if (name === 'origin') {
      origins++;
      origin = l.slice(colon + 1).trim();
    } else if (name === 'anthropic-version') anthropic = true;
  }
  return { path: line[1], origin: origins === 1 ? origin : undefined, anthropic };
}

const REQUEST_LINE = /^[A-Z]+ (\/[^ ?#\r\n]*)[^ \r\n]* HTTP\/1\.[01]\r\n/;

/**
 * Offset of the last request line in `raw` before `before`, or -1. (A request line follows the body before it with
 * nothing between them; a JSON body holds no raw CRLF, so it cannot hold one.)
 */
function lastRequestLine(raw: Buffer, before: number): number {
  const from = Math.max(0, Math.min(before, raw.length) - HEAD_SCAN_BYTES);
  const text = raw.toString('latin1', from, Math.min(before, raw.length));
  const lines = /[A-Z]+ \/[^ \r\n]* HTTP\/1\.[01]\r\n/g;
  let found = -1;
  for (let m = lines.exec(text); m !== null; m = lines.exec(text)) found = from + m.index;
  return found;
}

/**
 * The gateway's error for a request node:http could not parse (a header too large or with control
 * characters, an unknown method, a bad `Content-Length`, a broken chunked body...). Node's own answer is a
 * bare status line with no body; this one has the usual error body. The parser's reason is a fixed text of
 * llhttp (no stack, no input echoed).
 */
export function clientErrorOf(err: ParserError): LLMError {
  const reason = typeof err.reason === 'string' && err.reason !== '' ? err.reason : 'Malformed HTTP request';
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      if (requestLineTooLong(err.rawPacket, err.bytesParsed)) return new LLMError({ code: 'invalid_request', statusCode: 414, message: 'The request URL is too long', param: 'url' });
      return new LLMError({ code: 'invalid_request', statusCode: 431, message: 'Request headers are too large', param: 'headers' });
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new LLMError({ code: 'payload_too_large', message: 'Chunk extensions are too large', param: 'body' });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new LLMError({ code: 'timeout', statusCode: 408, message: 'The request was not received in time' });
    case 'HPE_INVALID_METHOD':
      return new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${reason}`, param: 'method' });
    case 'HPE_INVALID_URL':
      return new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${reason}`, param: 'url' });
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${reason}`, param: 'content-length' });
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${reason}`, param: 'transfer-encoding' });
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${reason}`, param: 'headers' });
    default:
      return new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${reason}` });
  }
}

/**
 * node:http's limit on a request's head (`maxHeaderSize`, 16 KB) counts its request line too: the head overflowed
 * because of its URL (a 414, not the 431 of headers too large) when the parser failed where the request target ends
 * (llhttp counts the target once it has read all of it: the bytes there are ` HTTP/1.x`), or when the bytes it was
 * parsing show the head's start and its request line is the larger part of the head read so far. A head whose start
 * is in an earlier packet and whose target did not end in this one is not told (the 431). Only read for that error.
 */
export function requestLineTooLong(raw: unknown, failedAt: number | undefined): boolean {
  if (!Buffer.isBuffer(raw) || failedAt === undefined || failedAt > raw.length) return false;
  if (raw.toString('latin1', failedAt, failedAt + 8) === ' HTTP/1.') return true;
  const from = Math.max(0, failedAt - HEAD_SCAN_BYTES);
  const text = raw.toString('latin1', from, failedAt);
  const starts = /(?:^|\n)([A-Z]+ \/)/g;
  let start = -1;
  for (let m = starts.exec(text); m !== null; m = starts.exec(text)) start = m.index + m[0].length - m[1]!.length;
  if (start < 0) return false;
  const end = text.indexOf('\r\n', start);
  return ((end < 0 ? text.length : end) - start) * 2 > text.length - start;
}

/**
 * The error shape of a request answered here, as the gateway's app chooses it: Anthropic's on the Messages API's
 * paths (`/v1/messages` and below) and for a request carrying `anthropic-version`; OpenAI's otherwise.
 */
function errorStyleOf(req: IncomingMessage): ErrorStyle {
  return styleOf((req.url ?? '').split('?', 1)[0]!, req.headers['anthropic-version'] !== undefined);
}

function styleOf(path: string, anthropicVersion: boolean): ErrorStyle {
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) return 'anthropic';
  return anthropicVersion ? 'anthropic' : 'openai';
}

/** The CORS headers of `req`'s answer, by its Origin and path (`cors` undefined: CORS is off). */
function corsOf(req: IncomingMessage, cors: CorsHeaders | undefined): Record<string, string> | undefined {
  if (!cors) return undefined;
  const origin = req.headers.origin;
  return cors(typeof origin === 'string' ? origin : undefined, (req.url ?? '').split('?', 1)[0]!);
}

/** The CORS headers of an error answered outside the gateway's app (`DirectRoutes.corsHeaders`). */
export type CorsHeaders = (origin: string | undefined, path: string | undefined) => Record<string, string> | undefined;

/**
 * A `clientError` listener for node:http: answers with the gateway's error body and closes the connection,
 * as Node would (only when nothing of an answer was written on it yet; otherwise it just closes). Bytes that fail
 * after the requests on the connection were read whole belong to a later request (pipelined): its answer goes out
 * after theirs, which are served as usual (Node would answer it at once, as the answer of the request in flight, and
 * cut that one). With CORS on
 * (`cors`), the answer carries the headers the gateway's routes would give the request (its Origin and path, when
 * its head was read: a request timed out while sending its body; or when the bytes the parser failed on hold it:
 * `headOf`), so a browser page can read it; on `/v1/messages` the body is in the Anthropic shape.
 */
export function answerClientError(requestId: () => string, cors?: CorsHeaders): (err: ParserError, socket: Duplex) => void {
  return (err, socket) => {
    const s = socket as Duplex & { _httpMessage?: ServerResponse | null; [LATER_ANSWER]?: true };
    // (The parser stays failed: more bytes on the connection report the same error again, the answer is on its way.)
    if (s[LATER_ANSWER]) return;
    const inFlight = s._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (inFlight) {
      // The latest request to arrive on the connection (`serveGateway` tells it, as do the 417 and 413 answered here; its
      // answer goes out last). One answered already is an earlier one's (a request not told with `arrived` came after it).
      const latest = latestArrived(socket as Socket);
      const last = latest && !latest.writableFinished ? latest : inFlight;
      if (last.req.complete) {
        // Read whole: the bytes that failed are a later request's (pipelined). Its answer goes out after those of the
        // requests before it, which are served as usual; the connection closes after it.
        s[LATER_ANSWER] = true;
        const answer = errorAnswer(clientErrorOf(err), requestId, undefined, headOf(err.rawPacket, err.bytesParsed ?? Number.POSITIVE_INFINITY), cors);
        last.once('finish', () => {
          // (Not after an answer that closes the connection: node:http has ended it.)
          if (socket.writable && !socket.writableEnded) socket.end(answer);
        });
        return;
      }
      if (last !== inFlight) {
        // The body of a request pipelined behind the answer in flight broke: that answer is not this request's. Nothing
        // more is read on the connection; it closes after that answer.
        s[LATER_ANSWER] = true;
        // (One answered already, unread, such as a 417 or a 401, queued behind it: that answer goes out, then the
        // connection closes, without waiting for the rest of a body that never comes: `stopLingering`.)
        if (last.writableEnded) {
          stopLingering(socket as Socket);
          last.once('finish', () => socket.destroy());
        } else if (!inFlight.headersSent) inFlight.shouldKeepAlive = false;
        else inFlight.once('finish', () => socket.destroy());
        return;
      }
      if (inFlight.headersSent) {
        socket.destroy();
        return;
      }
    } else if (answeredUnread(socket as Socket)) {
      // The rest of the body of a request answered already broke or stalled (past `requestTimeoutMs`): its client has
      // its one answer (node:http would write a second one, a 400 or 408 read as the answer of its next request).
      socket.destroy();
      return;
    }
    // The request whose head was read, if any (node:http sets it on its response, on the connection, until answered);
    // else what the bytes the parser failed on say of it.
    const req = inFlight?.req;
    const error = clientErrorOf(err);
    // (Its body's read then fails with this error: the request is counted as what the client was told, not `aborted`.)
    if (req) answeredWhileReading(req, error);
    socket.end(errorAnswer(error, requestId, req, req ? undefined : headOf(err.rawPacket), cors));
  };
}

/**
 * The latest request to arrive on `socket` (`latestArrived`) was answered (its answer all written: none is in flight)
 * before its body was all received: a route that does not read it (a GET's), or one refused unread (a bad key).
 */
function answeredUnread(socket: Socket): boolean {
  const latest = latestArrived(socket);
  return latest !== undefined && latest.headersSent && !latest.req.complete;
}

/** Set on a connection whose parse error is answered after the answers in flight on it (`answerClientError`). */
const LATER_ANSWER = Symbol('llmrr.laterAnswer');

/** The whole answer to a request node:http could not parse, for `req` (its head read) or `head` (from the bytes), closing. */
function errorAnswer(error: LLMError, requestId: () => string, req: IncomingMessage | undefined, head: Head | undefined, cors: CorsHeaders | undefined, lines = ''): string {
  const id = requestId();
  const status = errorStatus(error);
  const style = req ? errorStyleOf(req) : head ? styleOf(head.path!, head.anthropic) : 'openai';
  const body = JSON.stringify(errorBody(error, id, style));
  let extra = lines;
  const headers = req ? corsOf(req, cors) : cors?.(head?.origin, head?.path);
  if (headers) for (const name in headers) extra += `${name}: ${headers[name]}\r\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${id}\r\nrequest-id: ${id}\r\n${extra}connection: close\r\n\r\n${body}`
  );
}

/**
 * The `errorHandler` of `@hono/node-server`'s listener: a request it cannot turn into a web `Request` (a bad
 * or missing `Host`, a path that is not a path) is a 400 with the error body, not an empty 400; anything
 * else (the gateway's `fetch` rejected, which it does not do by itself) is a 500 with no detail, logged to the console.
 */
export function fetchBridgeError(requestId: () => string): (err: unknown) => Response {
  return (err) => {
    if (err instanceof RequestError) {
      const host = /host/i.test(err.message);
      // "Invalid URL" is what the bridge says when the target and the Host header do not make a URL together.
      const message = err.message === 'Invalid URL' ? 'Invalid URL (the request target with the Host header)' : err.message;
      return errorResponse(new LLMError({ code: 'invalid_request', message: `Malformed HTTP request: ${message}`, param: host ? 'host' : 'url' }), requestId());
    }
    const id = requestId();
    console.error('[llmrr-gateway] request failed before the gateway answered', id, err);
    return errorResponse(new LLMError({ code: 'internal', message: 'internal', cause: err }), id);
  };
}

/**
 * A `checkExpectation` listener for node:http: an `Expect` header other than `100-continue` is a 417 with
 * the error body (Node's own 417 has none; in the Anthropic shape on `/v1/messages`). Only such requests reach it.
 */
export function answerExpectation(requestId: () => string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // (The latest request on its connection: its body, unread, may stall or break after this answer: `answeredUnread`.)
    arrived(req, res);
    const error = new LLMError({ code: 'invalid_request', statusCode: 417, message: 'Only "Expect: 100-continue" is supported', param: 'expect' });
    writeReply(errorReply(error, requestId(), errorStyleOf(req)), req, res);
  };
}

/** An HTTP/1.1 request without a `Host` header (RFC 9112 3.2: a server MUST answer it with a 400; HTTP/1.0 needs none). */
export function lacksHost(req: IncomingMessage): boolean {
  return req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1;
}

/**
 * The answer to an HTTP/1.1 request without a `Host` header (RFC 9112 3.2: a server MUST answer it with a 400), which
 * `serveGateway` checks itself (`requireHostHeader: false`: node:http's own 400 has no body): the 400 error body naming
 * `host`, with the request id (and the CORS headers of its Origin and path, with `cors`), closing the connection as Node does.
 */
export function answerMissingHost(requestId: () => string, cors?: CorsHeaders): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const error = new LLMError({ code: 'invalid_request', message: 'An HTTP/1.1 request must have a Host header', param: 'host' });
    answerClosing(error, requestId, req, res, cors);
  };
}

/** Writes `error` as the answer to `req` (its route's error shape, its CORS headers with `cors`), closing the connection. */
function answerClosing(error: LLMError, requestId: () => string, req: IncomingMessage, res: ServerResponse, cors: CorsHeaders | undefined, extra?: Record<string, string>): void {
  const headers = corsOf(req, cors);
  writeReply(errorReply(error, requestId(), errorStyleOf(req), { ...headers, ...extra, connection: 'close' }), req, res);
}

/**
 * The answer to a request on a model route that says neither `Content-Length` nor `Transfer-Encoding` (RFC 9112 6.3:
 * its body is empty, so the bytes the client sends after its head would be read as the next request): 411 Length
 * Required with the error body naming `content-length`, closing the connection, so they are never read.
 */
export function answerLengthRequired(requestId: () => string, cors?: CorsHeaders): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => answerClosing(lengthRequired(req), requestId, req, res, cors);
}

/** The 411 of a request that does not say its body's length (`answerLengthRequired`). */
function lengthRequired(req: IncomingMessage): LLMError {
  return new LLMError({
    code: 'invalid_request',
    statusCode: 411,
    message: `A ${req.method ?? 'POST'} request must say its body's length: send Content-Length (or Transfer-Encoding: chunked)`,
    param: 'content-length',
  });
}

/** The methods the gateway serves (its admin API's included, and OPTIONS for CORS preflights): `OPTIONS *`'s `Allow`. */
export const SERVER_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * `OPTIONS *` (RFC 9110 9.3.7: a question about the server, not a resource; a ping some proxies and load balancers
 * send): 200 with `Allow` listing the methods the gateway serves and an empty body (Go's net/http answers a 200 with
 * `Content-Length: 0` and no `Allow`; Apache's 200 lists `Allow`).
 */
export function answerServerOptions(res: ServerResponse): void {
  // (Its body, if it declared one, is read and dropped by node:http, which keeps the connection for the next request.)
  res.writeHead(200, { allow: SERVER_METHODS, 'content-length': '0' });
  res.end();
}

/**
 * A `connect` listener for node:http (a `CONNECT host:port` request, which asks for a tunnel: node:http destroys the
 * connection without a word when nobody listens): the gateway is no proxy, so it answers 405 `method_not_allowed` with
 * the error body and `Allow`, after the answers of the requests pipelined ahead of it, and closes the connection once
 * that is written (after a CONNECT head, the client's next bytes are the tunnel's), also when the client keeps its side
 * open. node:http has handed the socket over: it is no longer in the server's connection list, so `serveGateway`'s
 * `close()` closes it itself.
 */
export function answerConnect(requestId: () => string): (req: IncomingMessage, socket: Duplex) => void {
  return (req, socket) => {
    socket.on('error', () => {});
    // node:http handed the socket over: it no longer reads it, nor passes its `drain` on to the answer being written.
    // What the client sends after the CONNECT (a tunnel's bytes) is read and dropped, so its leaving is noticed (its
    // FIN ends the connection, as node:http does for any request: an answer still being made ahead of the CONNECT is
    // cancelled with it), and `drain` is passed on as node:http does, so an answer ahead that waits for it (a stream
    // with more buffered than the socket takes) is written to its end.
    socket.on('drain', () => {
      const message = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (message && !message.writableFinished && message.writableNeedDrain) message.emit('drain');
    });
    // The client's FIN ends the connection: an answer still being made ahead is cancelled with it (a stream for a
    // client that left would run on, and bill, to its end). An answer already made but not yet all written is cut too
    // (node:http would write it out): the answers ahead cannot all be told apart here, and a client that half-closes
    // after pipelining a CONNECT is no HTTP client's way.
    socket.once('end', () => socket.destroy());
    socket.resume();
    const answer = () => {
      if (!socket.writable || socket.writableEnded) {
        socket.destroy();
        return;
      }
      const error = new LLMError({ code: 'method_not_allowed', message: 'CONNECT is not allowed: the gateway is not a proxy', param: 'method' });
      // Out of node:http's timeouts, and half-open (the server's sockets are): closed once the answer is written,
      // whether or not the client closes its side, or after CONNECT_ANSWER_MS if it cannot be written.
      const timer = setTimeout(() => socket.destroy(), CONNECT_ANSWER_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
      socket.end(errorAnswer(error, requestId, undefined, undefined, undefined, `allow: ${SERVER_METHODS}\r\n`), () => socket.destroy());
    };
    // (An answer still being made or written on the connection goes out first: it is the answer of a request before it.)
    const latest = latestArrived(socket as Socket);
    if (latest !== undefined && !latest.writableFinished && !latest.destroyed) latest.once('finish', answer);
    else answer();
  };
}

/** How long the answer to a CONNECT may take to be written before its connection is closed anyway (`answerConnect`). */
const CONNECT_ANSWER_MS = 5_000;

/**
 * A `checkContinue` listener for node:http (a request with `Expect: 100-continue`, as curl sends for a body over
 * 1 MB): a POST to a model route that does not say its body's length is refused with its 411 (`unframedModelCall`), a
 * declared body over `maxBodyBytes` with the 413 error body, and a body in a content coding sent with POST, PUT or PATCH
 * (`Content-Encoding: gzip`: no route decodes one) with the 415 naming `content-encoding`, each with `connection: close`
 * (and the CORS headers of its Origin and path, with `cors`), without `100 Continue`, so the client does not send it
 * (all read from the headers alone, after the 400 of an HTTP/1.1 request without `Host`, which comes first as without `Expect`; a charset is judged on the body: one that reads as UTF-8 JSON is served whatever it
 * declares, so such a request gets its `100 Continue`); any other request gets `100 Continue` at once and goes to
 * `onRequest` (one refused later, such as for a bad key or the body budget, has its body sent, then is answered: a
 * client such as Java's HttpClient waits for the 100 and hangs on a final answer without it, JDK-8286171).
 */
export function answerContinue(
  maxBodyBytes: number | undefined,
  requestId: () => string,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  cors?: CorsHeaders,
  /** The request must say its body's length (a POST to a model route: `answerLengthRequired`) and does not. */
  unframedModelCall?: (req: IncomingMessage) => boolean,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // An HTTP/1.1 request without a Host header gets its 400 first (as without `Expect`), and no `100 Continue`.
    if (lacksHost(req)) {
      onRequest(req, res);
      return;
    }
    const refused = unframedModelCall?.(req) ? lengthRequired(req) : maxBodyBytes === undefined ? undefined : refusedBody(req, maxBodyBytes);
    if (refused !== undefined) {
      // (As `answerExpectation`: no second answer when the body, not sent, stalls past the timeout.)
      arrived(req, res);
      answerClosing(refused, requestId, req, res, cors);
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  };
}

/**
 * The refusal of a body from its headers: declared over `maxBodyBytes` (413), or in a content coding on a method whose
 * body a route decodes (POST, PUT, PATCH: `readJsonBody`'s 415; any other is answered as without `Expect`).
 */
function refusedBody(req: IncomingMessage, maxBodyBytes: number): LLMError | undefined {
  if (Number(req.headers['content-length']) > maxBodyBytes) return tooLarge(maxBodyBytes);
  const method = req.method;
  return method === 'POST' || method === 'PUT' || method === 'PATCH' ? unsupportedCoding(req.headers['content-encoding']) : undefined;
}
