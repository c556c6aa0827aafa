import { LLMError } from '../../errors/llm-error.js';
import { abortError } from '../../errors/to-llm-error.js';
import type { FetchFn } from '../../util/http.js';
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
  /** Seam for tests: the addresses a host name resolves to (default `resolveHost`, through `node:dns`). */
  resolveHost?: (hostname: string) => Promise<string[] | undefined>;
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
 * part, never what the host resolved to.
 */
async function checkHost(url: URL, param: string, settings: ImageDownloadSettings): Promise<void> {
  const host = url.hostname;
  const { isAddressLiteral, isPublicAddress } = await addressChecks();
  const refused = () => invalid(settings, param, `${param}: the image URL's host "${host}" is not a public address; images are not downloaded from loopback, private or link-local addresses`);
  if (isAddressLiteral(host)) {
    if (!isPublicAddress(host)) throw refused();
    return;
  }
  let addresses: string[] | undefined;
  try {
    addresses = await (settings.resolveHost ?? resolveHost)(host);
  } catch (e) {
    throw invalid(settings, param, `${param}: could not resolve the image URL's host "${host}"`, e);
  }
  // A runtime without a resolver (edge runtimes) checks the literal only.
  if (addresses !== undefined && (addresses.length === 0 || !addresses.every(isPublicAddress))) throw refused();
}

/** GETs `url`, following redirects by hand so each hop is checked (`checkHost`) unless private URLs are allowed. */
async function get(url: string, param: string, settings: ImageDownloadSettings): Promise<Response> {
  let next = new URL(url);
  for (let hop = 0; ; hop++) {
    if (!settings.allowPrivateImageUrls) await checkHost(next, param, settings);
    if (settings.signal?.aborted) throw abortError(settings.signal, { provider: settings.provider, deployment: settings.deployment });
    let response: Response;
    try {
      response = await settings.fetch(next.href, { signal: settings.signal, redirect: 'manual' });
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
 * Downloads the image at a plain http(s) `url` (Gemini reads only its own file URIs) as an `inlineData` part. A
 * failure is the request's (`invalid_request` naming `param`): a refused host, a failed download, an HTTP error,
 * an image above 20 MB or a content-type that is not an image. The signal's abort rejects with `aborted`/`timeout`.
 */
export async function downloadImage(url: string, param: string, settings: ImageDownloadSettings): Promise<GeminiPart> {
  const response = await get(url, param, settings);
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw invalid(settings, param, `${param}: downloading the image answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_INLINE_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw invalid(settings, param, `${param}: the image is larger than 20 MB`);
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await response.arrayBuffer();
  } catch (e) {
    if (settings.signal?.aborted) throw abortError(settings.signal, { provider: settings.provider, deployment: settings.deployment });
    throw invalid(settings, param, `${param}: the image download failed`, e);
  }
  if (bytes.byteLength > MAX_INLINE_BYTES) throw invalid(settings, param, `${param}: the image is larger than 20 MB`);
  const mimeType = response.headers.get('content-type')?.split(';')[0]?.trim();
  if (!mimeType || !mimeType.startsWith('image/')) {
    throw invalid(settings, param, `${param}: the URL did not answer with an image content-type (got "${mimeType ?? 'none'}")`);
  }
  return { inlineData: { mimeType, data: Buffer.from(bytes).toString('base64') } };
}
