import { LLMError } from '@llmrr/core';

export interface ReadBodyOptions {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
}

/**
 * Reads a request body as JSON, refusing (with a typed 4xx LLMError, never a 5xx):
 * a non-JSON content type (415), a body over `maxBytes` (413, checked on Content-Length and while reading),
 * bytes that are not valid UTF-8 (400 `invalid_request`), and text that is not JSON (400 `invalid_json`).
 */
export async function readJsonBody(request: Request, options: ReadBodyOptions): Promise<unknown> {
  const type = request.headers.get('content-type');
  if (type !== null && type.trim() !== '' && !/^application\/([\w.+-]*\+)?json\b/i.test(type.trim()) && !/^text\/plain\b/i.test(type.trim())) {
    throw new LLMError({ code: 'unsupported_media_type', message: `Content-Type must be application/json, got "${type}"`, param: 'content-type' });
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) throw tooLarge(options.maxBytes);
  const bytes = await readLimited(request, options.maxBytes);
  if (bytes.byteLength === 0) throw new LLMError({ code: 'invalid_json', message: 'Request body is empty; expected a JSON object', param: 'body' });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new LLMError({ code: 'invalid_request', message: `Request body is not valid UTF-8 (at or after byte ${firstInvalidUtf8(bytes)})`, param: 'body' });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new LLMError({ code: 'invalid_json', message: `Request body is not valid JSON: ${detail}`, param: 'body' });
  }
}

function tooLarge(maxBytes: number): LLMError {
  return new LLMError({ code: 'payload_too_large', message: `Request body exceeds the limit of ${maxBytes} bytes`, param: 'body' });
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
    throw new LLMError({ code: 'invalid_request', message: 'Could not read the request body', param: 'body', cause: e });
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
