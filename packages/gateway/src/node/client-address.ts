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
 * `a.b.c.d` when the IPv6 address `address` is IPv4-mapped (in `::ffff:0:0/96`, written `::ffff:10.0.0.7`,
 * `::ffff:a00:7` or `0:0:0:0:0:ffff:10.0.0.7`; a zone id ignored), else undefined. Read from the URL parser's
 * canonical form, which writes every such address `::ffff:x:y`.
 */
function mappedIPv4(address: string): string | undefined {
  // (Without a zone id, `fe80::1%eth0`, which node's isIP takes and the URL parser does not.)
  const percent = address.indexOf('%');
  const canonical = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(new URL(`http://[${percent < 0 ? address : address.slice(0, percent)}]/`).hostname);
  if (!canonical) return undefined;
  const high = parseInt(canonical[1]!, 16);
  const low = parseInt(canonical[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * The trusted proxies of `list` (each an address, `10.0.0.7` or `::1`, or a CIDR range, `10.0.0.0/8`, `fd00::/8` or
 * an IPv4-mapped one, `::ffff:10.0.0.0/104`), checked with node:net's `BlockList`; `undefined` for an absent or empty
 * list. An IPv4-mapped entry is taken as the IPv4 one it maps (`::ffff:10.0.0.7` is `10.0.0.7`, `::ffff:10.0.0.0/104`
 * is `10.0.0.0/8`: its prefix counts the 96 bits of `::ffff:0:0/96`), as a peer is. One with a prefix under 96
 * (`::ffff:10.0.0.0/8`, the IPv4 prefix written on the IPv6 form) throws a `RangeError` naming both spellings: read
 * as IPv6 it would be a range holding every IPv4 address (`::ffff:0:0/96` lies in `::/8`), so any client's
 * `X-Forwarded-For` would be believed. An entry that is no address or range throws a `RangeError` naming it (a typo
 * must not trust, or fail to trust, some other range).
 */
export function trustedProxies(list: readonly string[] | undefined): TrustedProxies | undefined {
  if (!list || list.length === 0) return undefined;
  const blocks = new BlockList();
  for (const raw of list) {
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const written = slash < 0 ? entry : entry.slice(0, slash);
    const writtenFamily = isIP(written);
    const prefixText = slash < 0 ? '' : entry.slice(slash + 1);
    const writtenPrefix = Number(prefixText);
    if (writtenFamily === 0 || (slash >= 0 && (!/^\d{1,3}$/.test(prefixText) || writtenPrefix > (writtenFamily === 4 ? 32 : 128)))) {
      throw new RangeError(`trustedProxies: ${JSON.stringify(raw)} is not an IP address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)`);
    }
    const ipv4 = writtenFamily === 6 ? mappedIPv4(written) : undefined;
    if (ipv4 !== undefined && slash >= 0 && writtenPrefix < 96) {
      const n = writtenPrefix <= 32 ? String(writtenPrefix) : 'N';
      const n96 = writtenPrefix <= 32 ? String(96 + writtenPrefix) : '(96+N)';
      throw new RangeError(
        `trustedProxies: ${JSON.stringify(raw)} is an IPv4-mapped address with a prefix under 96, which as IPv6 would hold every IPv4 address: write the IPv4 range ${ipv4}/${n} or the IPv4-mapped one ::ffff:${ipv4}/${n96}`,
      );
    }
    const address = ipv4 ?? written;
    const prefix = ipv4 !== undefined ? writtenPrefix - 96 : writtenPrefix;
    const type = writtenFamily === 4 || ipv4 !== undefined ? 'ipv4' : 'ipv6';
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
