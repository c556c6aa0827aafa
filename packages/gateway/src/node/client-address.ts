import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The proxies (load balancers, ingresses) whose `X-Forwarded-For` the server believes: addresses and CIDR ranges, IPv4
 * or IPv6 (`ServeOptions.trustedProxies`). Made once per server; `undefined` for none (the header is never read).
 */
export interface TrustedProxies {
  has(address: string): boolean;
}

/** `a.b.c.d` out of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket's form), else the address. */
function unmapped(address: string): string {
  return address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The trusted proxies of `list` (each an address, `10.0.0.7` or `::1`, or a CIDR range, `10.0.0.0/8`, `fd00::/8` or
 * an IPv4-mapped one, `::ffff:10.0.0.0/104`), checked with node:net's `BlockList`, which matches an IPv4-mapped
 * address or range against IPv4 ones and back (`::ffff:10.0.0.0/104` holds `10.1.2.3`; `10.0.0.0/8` holds
 * `::ffff:10.1.2.3`); `undefined` for an absent or empty list. An entry is taken in its own family (an IPv6 prefix is
 * up to 128 however its address is written); one that is neither throws a `RangeError` naming it (a typo must not
 * trust, or fail to trust, some other range).
 */
export function trustedProxies(list: readonly string[] | undefined): TrustedProxies | undefined {
  if (!list || list.length === 0) return undefined;
  const blocks = new BlockList();
  for (const raw of list) {
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    const prefixText = slash < 0 ? '' : entry.slice(slash + 1);
    const prefix = Number(prefixText);
    if (family === 0 || (slash >= 0 && (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)))) {
      throw new RangeError(`trustedProxies: ${JSON.stringify(raw)} is not an IP address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) blocks.addAddress(address, type);
    else blocks.addSubnet(address, prefix, type);
  }
  return {
    has(address: string): boolean {
      const a = unmapped(address);
      const family = isIP(a);
      return family !== 0 && blocks.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * The client's address: the connection's peer, unless that is a trusted proxy; then `X-Forwarded-For` is read from
 * its right end (the hop the proxy itself added) leftwards, skipping trusted proxies, and the first address that is
 * not one is the client (Express's `trust proxy` with a list, nginx's `real_ip_recursive on`). A hop that is no IP
 * address stops the walk at the proxy that passed it on (its value cannot be believed). Every hop trusted: the
 * left-most. Without trusted proxies the header is never read: any client can write it.
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies | undefined): string | undefined {
  const peer = req.socket.remoteAddress;
  if (trusted === undefined || peer === undefined || !trusted.has(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return peer;
  // Repeated fields, as node:http joins them (`a, b`): one list, in order.
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = stripPort(hops[i]!.trim());
    if (hop === '' || isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client;
}

/** An address without the port some proxies add (`1.2.3.4:5678`, `[2001:db8::1]:443`) or the brackets of an IPv6 one. */
function stripPort(hop: string): string {
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    return end < 0 ? hop : hop.slice(1, end);
  }
  const colon = hop.indexOf(':');
  return colon >= 0 && colon === hop.lastIndexOf(':') ? hop.slice(0, colon) : hop;
}
