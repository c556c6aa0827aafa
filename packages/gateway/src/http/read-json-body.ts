import { LLMError } from '@llmrr/core';
import type { BodyBudget } from './body-budget.js';
import { CONTENT_LENGTH, badContentLength, tooLarge, type Incoming } from './incoming.js';

export interface ReadBodyOptions {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
  /** The bytes of bodies held at once (`limits.maxBodyBytesInFlight`), charged as they are read: see `BodyBudget`. */
  budget?: BodyBudget | undefined;
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const TEXT_TYPE = /^text\/plain\b/i;
/** Stateless between calls (no `stream` option), so one instance serves every request; replaced after a failure. */
let utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads a request body as JSON, refusing (with a typed 4xx LLMError, never a 5xx):
 * a non-JSON content type (415 naming `content-type`), a Content-Length that is not decimal digits (400 naming
 * `content-length`), a body in a content coding (415 naming `content-encoding`: a gzip body is not decompressed, so the
 * body limit stays a limit on what is parsed and no small body inflates to a large one; the client sends it plain), a
 * transfer coding other than `chunked` (400 naming `transfer-encoding`: not decoded, for the same reasons), a body over
 * `maxBytes` (413, checked on Content-Length and while reading; a body longer than a string can be is a 413 too, a
 * guard: `maxBytes` is capped below that), bytes that are not valid UTF-8 (400 `invalid_request`), and text that is not
 * JSON (400 `invalid_json`; an empty body, or one of a UTF-8 byte order mark alone, too). When the Content-Type
 * declares a charset other than UTF-8, bytes that are not valid UTF-8 (latin-1's) and text that is not JSON and holds a
 * NUL (UTF-16 or UTF-32 text: ASCII in them has NULs) are a 415 naming `content-type` instead (`unsupportedCharset`); a
 * JSON syntax error in text without a NUL stays the 400 `invalid_json`, whatever charset is declared.
 * A web `Request` is read through `incomingFromRequest` (never its own `bytes()`, which has no limit). With a
 * `budget`, the body's bytes are charged as they arrive and given back once parsed; a body whose declared length or
 * next chunk does not fit beside the other bodies' bytes is refused (503 `overloaded` with `Retry-After`: the gateway's
 * capacity, not the client's input), the first unread.
 */
export async function readJsonBody(incoming: Incoming, options: ReadBodyOptions): Promise<unknown> {
  const type = incoming.headers.get('content-type');
  if (type !== null && !JSON_TYPE.test(type) && !acceptableType(type.trim())) {
    throw new LLMError({ code: 'unsupported_media_type', message: `Content-Type must be application/json, got "${type.slice(0, 100)}"`, param: 'content-type' });
  }
  const coded = unsupportedCoding(incoming.headers.get('content-encoding'));
  if (coded !== undefined) throw coded;
  const length = incoming.headers.get('content-length');
  if (length !== null) {
    // (node:http checked it; a `Request` given to `gateway.fetch` may say anything.)
    if (!CONTENT_LENGTH.test(length)) throw badContentLength();
    if (Number(length) > options.maxBytes) throw tooLarge(options.maxBytes);
  } else {
    // (A body without Content-Length comes chunked: node:http decodes `chunked`, not a coding listed before it.)
    const transfer = incoming.headers.get('transfer-encoding');
    if (transfer !== null && !chunkedOnly(transfer)) throw unknownTransferCoding(transfer);
  }
  const budget = options.budget;
  // (Before the body is read, and before its `100 Continue`: a body that would not fit now is not sent.)
  if (budget !== undefined && length !== null && !budget.fits(Number(length))) throw budget.busy();
  const bytes = await incoming.bytes(options.maxBytes, budget);
  try {
    if (bytes.byteLength === 0) throw emptyBody();
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (e) {
      utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
      // (A guard: `maxBodyBytes` is capped so that a body always fits in a string, Node's ERR_STRING_TOO_LONG.)
      if ((e as { code?: unknown } | null)?.code === 'ERR_STRING_TOO_LONG' || e instanceof RangeError) throw longerThanAString();
      const detail = `not valid UTF-8 (at byte ${firstInvalidUtf8(bytes)})`;
      // Bytes of the other charset the body declares (latin-1's 0xE9 for "e" with an acute accent): that charset is named.
      const charset = otherCharset(type);
      if (charset !== undefined) throw unsupportedCharset(charset, detail);
      throw new LLMError({ code: 'invalid_request', message: `Request body is ${detail}`, param: 'body' });
    }
    // (A UTF-8 byte order mark alone, which the decoder drops: the empty body.)
    if (text === '') throw emptyBody();
    try {
      return JSON.parse(text);
    } catch (e) {
      const detail = `not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
      // UTF-16 or UTF-32 text, all ASCII, is valid UTF-8 with NULs between its characters (which JSON refuses): the
      // charset it declares is named. A syntax error in text without a NUL is the JSON's fault, whatever the charset.
      const charset = otherCharset(type);
      if (charset !== undefined && text.includes('\0')) throw unsupportedCharset(charset, detail);
      throw new LLMError({ code: 'invalid_json', message: `Request body is ${detail}`, param: 'body' });
    }
  } finally {
    // (The bytes the read charged, held until parsed.)
    budget?.give(bytes.byteLength);
  }
}

/** An empty body, or one of a UTF-8 byte order mark alone: a 400 naming `body`. */
function emptyBody(): LLMError {
  return new LLMError({ code: 'invalid_json', message: 'Request body is empty; expected a JSON object', param: 'body' });
}

/**
 * The largest `maxBodyBytes` (`limits.maxBodyBytes` is capped to it): V8's longest string, in UTF-16 code units
 * (Node's `buffer.constants.MAX_STRING_LENGTH` on 64-bit), which a body of more bytes may not decode into.
 */
export const MAX_BODY_BYTES_LIMIT = 536_870_888;

function longerThanAString(): LLMError {
  return new LLMError({ code: 'payload_too_large', message: `Request body is longer than a string can be (${MAX_BODY_BYTES_LIMIT} characters)`, param: 'body' });
}

/** UTF-8 (RFC 8259 8.1: JSON exchanged between systems is UTF-8), or US-ASCII, a subset of it that reads the same. */
const UTF8_CHARSET = /^(utf-?8|us-ascii)$/i;

/**
 * The `charset` a Content-Type declares when it is not UTF-8 (nor US-ASCII), if any. Only read for a body that failed
 * as UTF-8 JSON: no request pays for it.
 */
function otherCharset(type: string | null): string | undefined {
  const charset = declaredCharset(type);
  return charset !== undefined && !UTF8_CHARSET.test(charset) ? charset : undefined;
}

/**
 * The `charset` parameter of a media type, if it has one (RFC 9110 5.6.6, 8.3.1): its parameters read in order, each a
 * token or a quoted string (so a `;charset=` inside another one's quoted value is not one), the name in any case; the
 * first `charset` counts. An empty value is none. Only a type with parameters is read (the SDKs send none).
 */
function declaredCharset(type: string | null): string | undefined {
  if (type === null) return undefined;
  const n = type.length;
  let i = type.indexOf(';');
  while (i >= 0) {
    // At a `;`: the parameter's name runs to its `=` (a name without one is skipped).
    const from = i + 1;
    i = from;
    while (i < n && type[i] !== '=' && type[i] !== ';') i++;
    if (i >= n) return undefined;
    if (type[i] === ';') continue;
    const name = type.slice(from, i).trim();
    let value: string;
    i++;
    while (i < n && (type[i] === ' ' || type[i] === '\t')) i++;
    if (type[i] === '"') {
      value = '';
      for (i++; i < n && type[i] !== '"'; i++) value += type[i] === '\\' && i + 1 < n ? type[++i] : type[i];
      i = type.indexOf(';', i);
    } else {
      const end = type.indexOf(';', i);
      value = type.slice(i, end < 0 ? n : end).trim();
      i = end;
    }
    if (name.length === 7 && name.toLowerCase() === 'charset') return value === '' ? undefined : value;
  }
  return undefined;
}

/**
 * A body that is not UTF-8 JSON (`detail` says how it failed) and declares another charset (a 415 naming
 * `content-type`): latin-1 bytes, UTF-16 or UTF-32 text. It is not converted: JSON is UTF-8 on the wire (RFC 8259 8.1,
 * which defines no charset parameter), so a body that reads as UTF-8 JSON is read whatever charset it declares.
 */
function unsupportedCharset(charset: string, detail: string): LLMError {
  return new LLMError({
    code: 'unsupported_media_type',
    message: `Request body is ${detail}, and its Content-Type charset "${charset.slice(0, 100)}" is not supported: send the body as UTF-8 (charset=utf-8, or no charset)`,
    param: 'content-type',
  });
}

/** `Transfer-Encoding: chunked` alone (node:http refuses a coding after `chunked`, and `chunked` with Content-Length). */
function chunkedOnly(transfer: string): boolean {
  return CHUNKED_ONLY.test(transfer);
}

const CHUNKED_ONLY = /^[ \t]*chunked[ \t]*$/i;

/**
 * A transfer coding other than `chunked` (only `chunked` is decoded): a 400 naming `transfer-encoding`, as node:http's
 * own answer to one without `chunked` last. (RFC 9112 6.1 suggests 501, but a 5xx is retried by the SDKs and this is the
 * client's input: the same request would be refused each time.)
 */
function unknownTransferCoding(transfer: string): LLMError {
  return new LLMError({
    code: 'invalid_request',
    message: `Transfer-Encoding "${transfer.slice(0, 100)}" is not supported: only chunked is; send the body uncompressed (chunked or with Content-Length)`,
    param: 'transfer-encoding',
  });
}

/**
 * The 415 naming `content-encoding` of a body in a content coding (`readJsonBody` decodes none), or undefined for none
 * or `identity`. Read from the headers alone: `serveGateway` answers it before `100 Continue`, so the body is not sent.
 */
export function unsupportedCoding(encoding: string | null | undefined): LLMError | undefined {
  if (encoding === null || encoding === undefined || identity(encoding)) return undefined;
  return new LLMError({ code: 'unsupported_media_type', message: `Content-Encoding "${encoding.slice(0, 100)}" is not supported; send the body uncompressed`, param: 'content-encoding' });
}

/** No content coding: an empty value or `identity` (RFC 9110 8.4.1). */
function identity(encoding: string): boolean {
  const e = encoding.trim();
  return e === '' || e.toLowerCase() === 'identity';
}

function acceptableType(type: string): boolean {
  return type === '' || JSON_TYPE.test(type) || TEXT_TYPE.test(type);
}

/**
 * Offset of the first byte that breaks UTF-8 (as TextDecoder's fatal mode reads it: no overlong forms, no surrogates,
 * nothing above U+10FFFF), for the error message: the byte where the decoder fails, or the first byte of a sequence the
 * body ends inside. One pass over the bytes (the body may be tens of MiB: this runs on the event loop).
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    // The range of the second byte (the first after the lead narrows it, RFC 3629 4).
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    const start = i;
    i++;
    for (let k = 0; k < need; k++, i++) {
      if (i >= n) return start;
      const c = bytes[i]!;
      if (c < lo || c > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
  }
  return n;
}
