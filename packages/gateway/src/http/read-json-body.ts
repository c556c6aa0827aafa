import { LLMError } from '@llmrr/core';
import { tooLarge, type Incoming } from './incoming.js';

export interface ReadBodyOptions {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const TEXT_TYPE = /^text\/plain\b/i;
/** Stateless between calls (no `stream` option), so one instance serves every request; replaced after a failure. */
let utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads a request body as JSON, refusing (with a typed 4xx LLMError, never a 5xx):
 * a non-JSON content type (415), a body in a content coding (415 naming `content-encoding`: a gzip body is not
 * decompressed, so the body limit stays a limit on what is parsed and no small body inflates to a large one; the
 * client sends it plain), a transfer coding other than `chunked` (501 naming `transfer-encoding`, RFC 9112 6.1: not
 * decoded, for the same reasons), a body over `maxBytes` (413, checked on Content-Length and while reading),
 * bytes that are not valid UTF-8 (400 `invalid_request`), and text that is not JSON (400 `invalid_json`).
 * A web `Request` is read through `incomingFromRequest` (never its own `bytes()`, which has no limit).
 */
export async function readJsonBody(incoming: Incoming, options: ReadBodyOptions): Promise<unknown> {
  const type = incoming.headers.get('content-type');
  if (type !== null && !JSON_TYPE.test(type) && !acceptableType(type.trim())) {
    throw new LLMError({ code: 'unsupported_media_type', message: `Content-Type must be application/json, got "${type}"`, param: 'content-type' });
  }
  const encoding = incoming.headers.get('content-encoding');
  if (encoding !== null && !identity(encoding)) {
    throw new LLMError({ code: 'unsupported_media_type', message: `Content-Encoding "${encoding.slice(0, 100)}" is not supported; send the body uncompressed`, param: 'content-encoding' });
  }
  const length = incoming.headers.get('content-length');
  if (length !== null) {
    if (Number(length) > options.maxBytes) throw tooLarge(options.maxBytes);
  } else {
    // (A body without Content-Length comes chunked: node:http decodes `chunked`, not a coding listed before it.)
    const transfer = incoming.headers.get('transfer-encoding');
    if (transfer !== null && !chunkedOnly(transfer)) throw unknownTransferCoding(transfer);
  }
  const bytes = await incoming.bytes(options.maxBytes);
  if (bytes.byteLength === 0) throw new LLMError({ code: 'invalid_json', message: 'Request body is empty; expected a JSON object', param: 'body' });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    throw new LLMError({ code: 'invalid_request', message: `Request body is not valid UTF-8 (at or after byte ${firstInvalidUtf8(bytes)})`, param: 'body' });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new LLMError({ code: 'invalid_json', message: `Request body is not valid JSON: ${detail}`, param: 'body' });
  }
}

/** `Transfer-Encoding: chunked` alone (node:http refuses a coding after `chunked`, and `chunked` with Content-Length). */
function chunkedOnly(transfer: string): boolean {
  return CHUNKED_ONLY.test(transfer);
}

const CHUNKED_ONLY = /^[ \t]*chunked[ \t]*$/i;

/** RFC 9112 6.1: a transfer coding the server does not understand is a 501; only `chunked` is decoded. */
function unknownTransferCoding(transfer: string): LLMError {
  return new LLMError({
    code: 'invalid_request',
    statusCode: 501,
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

/** Offset of the first byte that breaks UTF-8, for the error message. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.byteLength;
  // Binary search on the longest valid prefix (streaming mode: a prefix may end mid-character).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}
