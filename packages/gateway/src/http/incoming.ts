import { LLMError } from '@llmrr/core';
import type { ServedStreams } from '../calls/served-streams.js';

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
   * or 400 `invalid_request` when the body cannot be read.
   */
  bytes(maxBytes: number): Promise<Uint8Array>;
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
 * A web `Request` as an `Incoming`. `signal`, when given, is the signal of the connection carrying it (`serveGateway`'s:
 * `ServedEnv`), taken instead of the request's own.
 */
export function incomingFromRequest(request: Request, clientIp: string | undefined, served?: ServedStreams, signal?: () => AbortSignal): Incoming {
  return { headers: request.headers, bytes: (maxBytes) => readLimited(request, maxBytes), signal: signal ? signal() : request.signal, clientIp, served };
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (LLMError.isInstance(e)) throw e;
    throw unreadable(e);
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
