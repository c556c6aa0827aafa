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
 * a non-JSON content type or a body in a charset other than UTF-8 (415 naming `content-type`: `unsupportedCharset`), a
 * Content-Length that is not decimal digits (400 naming `content-length`), a body in a content coding (415 naming
 * `content-encoding`: a gzip body is not decompressed, so the body limit stays a limit on what is parsed and no small
 * body inflates to a large one; the client sends it plain), a transfer coding other than `chunked` (400 naming
 * `transfer-encoding`: not decoded, for the same reasons), a body over `maxBytes` (413, checked on
 * Content-Length and while reading; a body longer than a string can be is a 413 too, a guard: `maxBytes` is capped
 * below that), bytes that are not valid UTF-8 (400 `invalid_request`), and text that is not JSON (400 `invalid_json`).
 * A web `Request` is read through `incomingFromRequest` (never its own `bytes()`, which has no limit). With a
 * `budget`, the body's bytes are charged as they arrive and given back once parsed; a body whose declared length or
 * next chunk does not fit beside the other bodies' bytes is refused (503 `overloaded` with `Retry-After`: the gateway's
 * capacity, not the client's input), the first unread.
 */
export async function readJsonBody(incoming: Incoming, options: ReadBodyOptions): Promise<unknown> {
  const type = incoming.headers.get('content-type');
  if (type !== null) {
    if (!JSON_TYPE.test(type) && !acceptableType(type.trim())) {
      throw new LLMError({ code: 'unsupported_media_type', message: `Content-Type must be application/json, got "${type.slice(0, 100)}"`, param: 'content-type' });
    }
    // A charset whose text is never UTF-8 (utf-16): refused before the body is sent.
    const charset = declaredCharset(type);
    if (charset !== undefined && WIDE_CHARSET.test(charset)) throw unsupportedCharset(charset);
  }
  const encoding = incoming.headers.get('content-encoding');
  if (encoding !== null && !identity(encoding)) {
    throw new LLMError({ code: 'unsupported_media_type', message: `Content-Encoding "${encoding.slice(0, 100)}" is not supported; send the body uncompressed`, param: 'content-encoding' });
  }
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
    if (bytes.byteLength === 0) throw new LLMError({ code: 'invalid_json', message: 'Request body is empty; expected a JSON object', param: 'body' });
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (e) {
      utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
      // (A guard: `maxBodyBytes` is capped so that a body always fits in a string, Node's ERR_STRING_TOO_LONG.)
      if ((e as { code?: unknown } | null)?.code === 'ERR_STRING_TOO_LONG' || e instanceof RangeError) throw longerThanAString();
      // Bytes of the other charset the body declares (latin-1's 0xE9 for "e" with an acute accent): that charset is named.
      const charset = declaredCharset(type);
      if (charset !== undefined && !UTF8_CHARSET.test(charset)) throw unsupportedCharset(charset);
      throw new LLMError({ code: 'invalid_request', message: `Request body is not valid UTF-8 (at byte ${firstInvalidUtf8(bytes)})`, param: 'body' });
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      throw new LLMError({ code: 'invalid_json', message: `Request body is not valid JSON: ${detail}`, param: 'body' });
    }
  } finally {
    // (The bytes the read charged, held until parsed.)
    budget?.give(bytes.byteLength);
  }
}

/**
 * The largest `maxBodyBytes` (`limits.maxBodyBytes` is capped to it): V8's longest string, in UTF-16 code units
 * (Node's `buffer.constants.MAX_STRING_LENGTH` on 64-bit), which a body of more bytes may not decode into.
 */
export const MAX_BODY_BYTES_LIMIT = 536_870_888;

function longerThanAString(): LLMError {
  return new LLMError({ code: 'payload_too_large', message: `Request body is longer than a string can be (${MAX_BODY_BYTES_LIMIT} characters)`, param: 'body' });
}

/** The `charset` parameter of a media type (RFC 9110 8.3.1: a token or a quoted string, the name in any case). */
const CHARSET = /;[ \t]*charset[ \t]*=[ \t]*"?([^";, \t]+)/i;
/** UTF-8 (RFC 8259 8.1: JSON exchanged between systems is UTF-8), or US-ASCII, a subset of it that reads the same. */
const UTF8_CHARSET = /^(utf-?8|us-ascii)$/i;
/** The `charset` of a Content-Type, if it says one (only a type with parameters is searched: the SDKs send none). */
function declaredCharset(type: string | null): string | undefined {
  return type !== null && type.includes(';') ? CHARSET.exec(type)?.[1] : undefined;
}

/** The labels of UTF-16 and UTF-32 (the WHATWG Encoding Standard's, and UCS-4): text in them is never UTF-8. */
const WIDE_CHARSET = /^(utf-?(16|32)(le|be)?|ucs-?[24]|csunicode|iso-10646-ucs-2|unicode(feff|fffe)?)$/i;

/**
 * A body in a charset other than UTF-8 (a 415 naming `content-type`): one declared in UTF-16 or UTF-32
 * (`application/json; charset=utf-16`), before it is read, and one that is not valid UTF-8 and declares another charset
 * (latin-1). It is not converted: JSON is UTF-8 on the wire, RFC 8259 8.1, which defines no charset parameter (a body in
 * another ASCII-compatible charset that is valid UTF-8, such as one all ASCII, is read as it is).
 */
function unsupportedCharset(charset: string): LLMError {
  return new LLMError({
    code: 'unsupported_media_type',
    message: `Content-Type charset "${charset.slice(0, 100)}" is not supported: send the body as UTF-8 (charset=utf-8, or no charset)`,
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
