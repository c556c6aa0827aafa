import type { FetchFn } from '../../util/http.js';

type LookupCallback = (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;

/**
 * A `fetch` for GET requests that connects to one of `addresses` (the ones a caller resolved and checked), whatever
 * the URL's host resolves to now or whether it resolves at all: Node's `http` / `https` with a `lookup` that answers
 * those addresses, so a name that resolves to a public address for the check and to loopback for the connection (DNS
 * rebinding) is not reached there. The URL's host is still the Host header, the TLS server name and the name the
 * certificate must carry. A new connection per request (no pool: the next request's addresses may differ). No
 * redirect is followed (a 3xx is the answer: the caller checks and follows it), no body is sent, no compression is
 * asked for. An aborted `init.signal` rejects with its reason; a connection that fails rejects with a `TypeError`
 * (its cause the error), as `fetch` does. Node only: the caller checks addresses where `node:dns` is.
 */
export async function pinnedFetch(addresses: readonly string[]): Promise<FetchFn> {
  const [http, https, net, { Readable }] = await Promise.all([import('node:http'), import('node:https'), import('node:net'), import('node:stream')]);
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
  const pinned = (input: Parameters<FetchFn>[0], init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const url = new URL(input instanceof Request ? input.url : String(input));
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(
        url,
        {
          method: 'GET',
          agent: false,
          lookup: lookup as never,
          ...(url.protocol === 'https:' && net.isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 ? { servername: url.hostname } : {}),
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const headers = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            try {
              headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            } catch {
              // A value a Headers object refuses: left out.
            }
          }
          const status = res.statusCode ?? 0;
          const empty = status === 204 || status === 205 || status === 304;
          try {
            resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers }));
          } catch (e) {
            res.destroy();
            reject(new TypeError('fetch failed', { cause: e }));
          }
          if (empty) res.resume();
        },
      );
      request.on('error', (e) => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: e })));
      request.end();
    });
  return pinned as FetchFn;
}
