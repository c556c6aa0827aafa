import { LLMError } from '@llmrr/core';
import type { ServedStreams } from '../calls/served-streams.js';
import type { BodyBudget } from './body-budget.js';

/** Reads request headers by name (case-insensitive); a web `Headers` object is one. */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * What a model endpoint needs of an HTTP request, whatever carries it: a web `Request`
 * (`incomingFromRequest`) or, on the Node fast path, an `IncomingMessage` (see `node/node-incoming.ts`).
 */
export interface Incoming {
  readonly headers: HeaderSource;
  /**
   * The body bytes. Rejects with a 413 `payload_too_large` LLMError past `maxBytes` (stopping the read),
   * `aborted` when the client went away before its body was complete (`bodyAbandoned`), the error its server already
   * answered it with while the body arrived (`serveGateway`: a 400 for a body its parser failed on, a 408 past
   * `requestTimeoutMs`), or 400 `invalid_request` when the body cannot be read. With `budget`, each chunk is charged to it as it is read
   * (503 `overloaded` when one does not fit, stopping the read): the bytes returned stay charged (the caller gives
   * `byteLength` back once done with them); on a rejection nothing stays charged.
   */
  bytes(maxBytes: number, budget?: BodyBudget): Promise<Uint8Array>;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal | undefined;
  readonly clientIp: string | undefined;
  /** The streamed calls of the server carrying the request (`serveGateway`'s), when one does: its shutdown ends them. */
  readonly served?: ServedStreams | undefined;
}

export function tooLarge(maxBytes: number): LLMError {
  return new LLMError({ code: 'payload_too_large', message: `Request body exceeds the limit of ${maxBytes} bytes`, param: 'body' });
}

export function unreadable(cause: unknown): LLMError {
  return new LLMError({ code: 'invalid_request', message: 'Could not read the request body', param: 'body', cause });
}

/**
 * The client went away while its body was being sent: `aborted` (counted as such, as a client that leaves at any other
 * point is; no answer reaches it), not the `invalid_request` of a body that cannot be read.
 */
export function bodyAbandoned(cause: unknown): LLMError {
  return new LLMError({ code: 'aborted', message: 'The client closed the connection before its request body was complete', param: 'body', cause });
}

/**
 * A failed read of a request body: the client's leaving (`signal` aborted, a reset connection: Node's `aborted` error,
 * ECONNRESET; an abort) as `bodyAbandoned`, anything else as `unreadable`.
 */
export function bodyReadFailure(cause: unknown, signal?: AbortSignal): LLMError {
  if (signal?.aborted === true) return bodyAbandoned(cause);
  const c = cause as { code?: unknown; name?: unknown } | null;
  return typeof c === 'object' && c !== null && (c.code === 'ECONNRESET' || c.name === 'AbortError') ? bodyAbandoned(cause) : unreadable(cause);
}

/**
 * A web `Request` as an `Incoming`. `signal`, when given, is the signal of the connection carrying it (`serveGateway`'s:
 * `ServedEnv`), taken instead of the request's own.
 */
export function incomingFromRequest(
  request: Request,
  clientIp: string | undefined,
  served?: ServedStreams,
  signal?: () => AbortSignal,
  /** The error the server already answered the request with while its body arrived (`ServedEnv`), if any. */
  answered?: () => LLMError | undefined,
): Incoming {
  const gone = signal ? signal() : request.signal;
  return { headers: request.headers, bytes: (maxBytes, budget) => readLimited(request, maxBytes, budget, gone, answered), signal: gone, clientIp, served };
}

/** A Content-Length: decimal digits only (RFC 9110 8.6). */
export const CONTENT_LENGTH = /^\d+$/;

export function badContentLength(): LLMError {
  return new LLMError({ code: 'invalid_request', message: 'Content-Length must be a number of bytes (decimal digits)', param: 'content-length' });
}

function longerThanDeclared(declared: number): LLMError {
  return new LLMError({ code: 'invalid_request', message: `Request body is longer than its Content-Length (${declared} bytes)`, param: 'content-length' });
}

/**
 * A web `Request`'s body, refused past `maxBytes` (413) and past its declared Content-Length (400: nothing checked
 * it; node:http does for a Node request), each chunk charged to `budget` if any (see `Incoming.bytes`).
 */
async function readLimited(
  request: Request,
  maxBytes: number,
  budget: BodyBudget | undefined,
  signal: AbortSignal | undefined,
  answered: (() => LLMError | undefined) | undefined,
): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const length = request.headers.get('content-length');
  // (`readJsonBody` refused one that is not digits.)
  const declared = length !== null && CONTENT_LENGTH.test(length) ? Number(length) : Number.POSITIVE_INFINITY;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const error =
        total + value.byteLength > maxBytes ? tooLarge(maxBytes)
        : total + value.byteLength > declared ? longerThanDeclared(declared)
        : budget !== undefined && !budget.charge(total, value.byteLength) ? budget.busy()
        : undefined;
      if (error !== undefined) {
        await reader.cancel().catch(() => {});
        throw error;
      }
      total += value.byteLength;
      chunks.push(value);
    }
  } catch (e) {
    budget?.give(total);
    if (LLMError.isInstance(e)) throw e;
    // (A body the server answered already, a 400 or 408 the client read: counted as that, not as the client's leaving.)
    throw answered?.() ?? bodyReadFailure(e, signal);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
