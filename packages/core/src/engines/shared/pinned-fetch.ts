import type { FetchFn } from '../../util/http.js';

type LookupCallback = (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;

/** How long `pinnedFetch` waits; the defaults are Node's `fetch`'s (undici: `connectTimeout`, `headersTimeout`, `bodyTimeout`). */
export interface PinnedFetchTimeouts {
  /** For the TCP connection and, for https, the TLS handshake. Default 10 s. */
  connectMs?: number;
  /** From the connection to the response's headers. Default 300 s. */
  headersMs?: number;
  /** The longest pause between two pieces of the body. Default 300 s. */
  bodyIdleMs?: number;
}

/** `PinnedFetchTimeouts`, and whom https trusts. */
export interface PinnedFetchOptions extends PinnedFetchTimeouts {
  /**
   * Seam for tests: the certificate authorities (PEM) an https server's certificate must chain to, instead of Node's
   * (a test's own CA for a local server). The server name and the certificate's name are checked all the same.
   */
  ca?: string | readonly string[];
}

/** What `pinnedFetch` sends unless `init.headers` says otherwise. */
const DEFAULT_HEADERS = { 'user-agent': 'llmrr', 'accept-encoding': 'identity' } as const;

/**
 * A `fetch` for GET requests that connects to one of `addresses` (the ones a caller resolved and checked), whatever
 * the URL's host resolves to now or whether it resolves at all: Node's `http` / `https` with a `lookup` that answers
 * those addresses, so a name that resolves to a public address for the check and to loopback for the connection (DNS
 * rebinding) is not reached there. The URL's host is still the Host header, the TLS server name and the name the
 * certificate must carry. A new connection per request (no pool: the next request's addresses may differ). No
 * redirect is followed (a 3xx is the answer: the caller checks and follows it), no body is sent. It sends
 * `init.headers`, with `User-Agent: llmrr` and `Accept-Encoding: identity` unless they set them, and `Connection:
 * close`; a body encoded anyway (`gzip`, `x-gzip`, `deflate`, `br`, or several of them, `gzip, br`) is decoded, as
 * `fetch` does, and one with a coding it does not know (`zstd`) rejects with a `TypeError` naming it. An aborted
 * `init.signal` rejects with its reason; a connection that fails, or takes longer than `timeouts` allow to connect or
 * to answer its headers, rejects with a `TypeError` (its cause the error; a timeout's message says which), as `fetch`
 * does; a body that pauses longer than `timeouts.bodyIdleMs` errors its stream with one. Node only: the caller checks
 * addresses where `node:dns` is.
 */
export async function pinnedFetch(addresses: readonly string[], timeouts: PinnedFetchOptions = {}): Promise<FetchFn> {
  const [http, https, net, { Readable, pipeline }, zlib] = await Promise.all([import('node:http'), import('node:https'), import('node:net'), import('node:stream'), import('node:zlib')]);
  const { connectMs = 10_000, headersMs = 300_000, bodyIdleMs = 300_000, ca } = timeouts;
  const answers = addresses.map((address) => ({ address, family: net.isIP(address) })).filter((a) => a.family !== 0);
  const lookup = (_hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
    const usable = family === 4 || family === 6 ? answers.filter((a) => a.family === family) : answers;
    const first = usable[0];
    if (!first) {
      callback(Object.assign(new Error('no checked address to connect to'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) callback(null, usable.map((a) => ({ ...a })));
    else callback(null, first.address, first.family);
  };
  const decoders: Record<string, () => NodeJS.ReadWriteStream> = { gzip: zlib.createGunzip, 'x-gzip': zlib.createGunzip, deflate: zlib.createInflate, br: zlib.createBrotliDecompress };
  /** Timeouts of ours (their messages name no address, unlike a system error's). */
  const ours = new WeakSet<Error>();
  const timedOut = (message: string): Error => {
    const e = Object.assign(new Error(message), { code: 'ETIMEDOUT' });
    ours.add(e);
    return e;
  };
  const pinned = (input: Parameters<FetchFn>[0], init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const url = new URL(input instanceof Request ? input.url : String(input));
      const client = url.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { ...DEFAULT_HEADERS };
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const request = client.request(
        url,
        {
          method: 'GET',
          agent: false,
          headers,
          lookup: lookup as never,
          ...(url.protocol === 'https:' && net.isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 ? { servername: url.hostname } : {}),
          ...(url.protocol === 'https:' && ca !== undefined ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
          ...(signal ? { signal } : {}),
        },
        (res) => {
          clearTimeout(timer);
          // The body: errored by a pause longer than `bodyIdleMs` (the socket's idle timeout, cleared at its end).
          res.setTimeout(bodyIdleMs, () => res.destroy(timedOut(`no body data for ${bodyIdleMs} ms`)));
          res.once('end', () => res.setTimeout(0));
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            try {
              responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            } catch {
              // A value a Headers object refuses: left out.
            }
          }
          const status = res.statusCode ?? 0;
          const empty = status === 204 || status === 205 || status === 304;
          // The codings in the order applied (`gzip, br`: gzip, then br), so undone from the last; `identity` is none.
          const codings = empty ? [] : (res.headers['content-encoding'] ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
          const unknown = codings.find((c) => !Object.hasOwn(decoders, c));
          if (unknown !== undefined) {
            res.destroy();
            const refused = new Error(`unsupported Content-Encoding ${JSON.stringify(unknown.slice(0, 40))}`);
            reject(new TypeError(`fetch failed: ${refused.message}`, { cause: refused }));
            return;
          }
          const body = codings.length > 0 ? pipeline([res, ...codings.reverse().map((c) => decoders[c]!())], () => {}) : res;
          try {
            resolve(new Response(empty ? null : (Readable.toWeb(body as InstanceType<typeof Readable>) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
          } catch (e) {
            res.destroy();
            reject(new TypeError('fetch failed', { cause: e }));
          }
          if (empty) res.resume();
        },
      );
      // Connecting (TCP, and TLS for https), then the headers: each bounded; the request is destroyed past either.
      let timer = setTimeout(() => request.destroy(timedOut(`no connection within ${connectMs} ms`)), connectMs);
      request.once('socket', (socket) => {
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
          clearTimeout(timer);
          timer = setTimeout(() => request.destroy(timedOut(`no response headers within ${headersMs} ms`)), headersMs);
        });
      });
      request.on('error', (e: Error) => {
        clearTimeout(timer);
        if (signal?.aborted) reject(signal.reason);
        else reject(new TypeError(ours.has(e) ? `fetch failed: ${e.message}` : 'fetch failed', { cause: e }));
      });
      request.end();
    });
  return pinned as FetchFn;
}
