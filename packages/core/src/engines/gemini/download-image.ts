import { LLMError } from '../../errors/llm-error.js';
import { abortError } from '../../errors/to-llm-error.js';
import type { FetchFn } from '../../util/http.js';
import { pinnedFetch } from '../shared/pinned-fetch.js';
import { addressChecks, resolveHost } from '../shared/public-address.js';
import type { GeminiPart } from './gemini-api-types.js';

export interface ImageDownloadSettings {
  provider: string;
  deployment?: string;
  fetch: FetchFn;
  signal?: AbortSignal;
  /**
   * Download from any address. Default false: a URL whose host is, or resolves to, an address that is not public
   * (`isPublicAddress`: loopback, private, link-local and metadata addresses...) is refused, redirects included.
   */
  allowPrivateImageUrls?: boolean;
  /**
   * How a host name's image is downloaded once its addresses are checked. `pinned` (default): connecting to the
   * addresses checked (`pinnedFetch`), so a DNS answer that changes after the check (DNS rebinding) is not reached;
   * not through `fetch`. `fetch`: through `fetch` (an egress proxy's), which resolves the name again: the check still
   * runs, but rebinding is then for the proxy (or the network) to refuse.
   */
  imageFetch?: 'pinned' | 'fetch';
  /** Seam for tests: which addresses count as public (default `isPublicAddress`: loopback, private... do not). */
  isPublicAddress?: (address: string) => boolean;
  /** Seam for tests: the addresses a host name resolves to (default `resolveHost`, through `node:dns`). */
  resolveHost?: (hostname: string) => Promise<string[] | undefined>;
  /**
   * Seam for tests: a fetch that connects to these (checked) addresses only, for a host name resolved once and checked
   * (default `pinnedFetch`: Node's http / https with a `lookup` answering them).
   */
  pinnedFetch?: (addresses: readonly string[]) => FetchFn | Promise<FetchFn>;
}

/** Gemini refuses inline data above 20 MB per request; refuse a single image above it before sending. */
const MAX_INLINE_BYTES = 20 * 1024 * 1024;
/** Redirects followed (each one checked as the URL itself is). */
const MAX_REDIRECTS = 5;

function invalid(settings: ImageDownloadSettings, param: string, message: string, cause?: unknown): LLMError {
  return new LLMError({ code: 'invalid_request', message: `${settings.provider}: ${message}`, param, provider: settings.provider, deployment: settings.deployment, cause });
}

/**
 * Refuses `url` unless its host is a public address, or resolves only to public addresses (every address the
 * resolver gives, so a name with one private address among public ones is refused too). The message names the
 * part, never what the host resolved to. Returns the checked addresses of a host name (the connection goes to them:
 * no second resolution a DNS rebinding could answer otherwise), undefined for an address literal or where the
 * runtime has no resolver.
 */
async function checkHost(url: URL, param: string, settings: ImageDownloadSettings): Promise<string[] | undefined> {
  const host = url.hostname;
  const checks = await addressChecks();
  const { isAddressLiteral } = checks;
  const isPublicAddress = settings.isPublicAddress ?? checks.isPublicAddress;
  const refused = () => invalid(settings, param, `${param}: the image URL's host "${host}" is not a public address; images are not downloaded from loopback, private or link-local addresses`);
  if (isAddressLiteral(host)) {
    if (!isPublicAddress(host)) throw refused();
    return undefined;
  }
  let addresses: string[] | undefined;
  try {
    addresses = await (settings.resolveHost ?? resolveHost)(host);
  } catch (e) {
    throw invalid(settings, param, `${param}: could not resolve the image URL's host "${host}"`, e);
  }
  // A runtime without a resolver (edge runtimes) checks the literal only.
  if (addresses !== undefined && (addresses.length === 0 || !addresses.every(isPublicAddress))) throw refused();
  return addresses;
}

/**
 * GETs `url` (`Accept: image/*`), following redirects by hand so each hop is checked (`checkHost`) unless private URLs
 * are allowed. A host name is resolved once per hop and connected to at the addresses checked (`pinnedFetch`), unless
 * `imageFetch` is `fetch`; an address literal, a runtime without a resolver and `allowPrivateImageUrls` use the
 * engine's fetch.
 */
async function get(url: string, param: string, settings: ImageDownloadSettings): Promise<Response> {
  let next = new URL(url);
  for (let hop = 0; ; hop++) {
    const checked = settings.allowPrivateImageUrls ? undefined : await checkHost(next, param, settings);
    if (settings.signal?.aborted) throw abortError(settings.signal, { provider: settings.provider, deployment: settings.deployment });
    let response: Response;
    try {
      const fetchFn = checked && settings.imageFetch !== 'fetch' ? await (settings.pinnedFetch ?? pinnedFetch)(checked) : settings.fetch;
      response = await fetchFn(next.href, { signal: settings.signal, redirect: 'manual', headers: { accept: 'image/*' } });
    } catch (e) {
      if (settings.signal?.aborted) throw abortError(settings.signal, { provider: settings.provider, deployment: settings.deployment });
      throw invalid(settings, param, `${param}: could not download the image (${e instanceof Error ? e.message : String(e)})`, e);
    }
    const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
    if (location === null) return response;
    await response.body?.cancel().catch(() => {});
    if (hop >= MAX_REDIRECTS) throw invalid(settings, param, `${param}: the image URL redirected more than ${MAX_REDIRECTS} times`);
    try {
      next = new URL(location, next);
    } catch (e) {
      throw invalid(settings, param, `${param}: the image URL redirected to an invalid URL`, e);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw invalid(settings, param, `${param}: the image URL redirected to a URL that is not http(s)`);
  }
}

/**
 * The body of `response`, read chunk by chunk, or undefined once it exceeds `max` bytes (the rest is not read: the
 * body is cancelled, which closes the connection). A read that fails rejects as the stream does.
 */
async function readAtMost(response: Response, max: number): Promise<Uint8Array | undefined> {
  const body = response.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > max) return undefined;
      chunks.push(value);
    }
  } finally {
    // Past the limit or on a failure: stop the download. A body read to its end is closed already (a no-op).
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Downloads the image at a plain http(s) `url` (Gemini reads only its own file URIs) as an `inlineData` part. A
 * failure is the request's (`invalid_request` naming `param`): a refused host, a failed download, an HTTP error, a
 * content-type that is not an image (refused from the headers, the body unread), or an image above 20 MB (a declared
 * length above it is refused from the headers; a body without one is read only until it passes 20 MB). The signal's
 * abort rejects with `aborted`/`timeout`.
 */
export async function downloadImage(url: string, param: string, settings: ImageDownloadSettings): Promise<GeminiPart> {
  const response = await get(url, param, settings);
  const refuse = async (message: string): Promise<never> => {
    await response.body?.cancel().catch(() => {});
    throw invalid(settings, param, `${param}: ${message}`);
  };
  if (!response.ok) return refuse(`downloading the image answered HTTP ${response.status}`);
  const mimeType = response.headers.get('content-type')?.split(';')[0]?.trim();
  if (!mimeType || !mimeType.startsWith('image/')) return refuse(`the URL did not answer with an image content-type (got "${mimeType ?? 'none'}")`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_INLINE_BYTES) return refuse('the image is larger than 20 MB');
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readAtMost(response, MAX_INLINE_BYTES);
  } catch (e) {
    if (settings.signal?.aborted) throw abortError(settings.signal, { provider: settings.provider, deployment: settings.deployment });
    throw invalid(settings, param, `${param}: the image download failed${e instanceof Error ? ` (${e.message})` : ''}`, e);
  }
  if (!bytes) throw invalid(settings, param, `${param}: the image is larger than 20 MB`);
  return { inlineData: { mimeType, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } };
}
