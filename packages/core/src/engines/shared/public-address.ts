type IpAddr = typeof import('ipaddr.js');

/** The address checks, bound to ipaddr.js. */
export interface AddressChecks {
  isPublicAddress(address: string): boolean;
  isAddressLiteral(hostname: string): boolean;
}

let checks: Promise<AddressChecks> | undefined;

/**
 * `isPublicAddress` and `isAddressLiteral`, with ipaddr.js imported on first use: only Gemini's image download
 * checks addresses, so a process that never downloads an image never loads it (about 1 MB of resident memory).
 */
export function addressChecks(): Promise<AddressChecks> {
  checks ??= import('ipaddr.js').then((m) => {
    const ipaddr = ((m as { default?: IpAddr }).default ?? m) as IpAddr;
    return { isPublicAddress: (address) => isPublicAddress(ipaddr, address), isAddressLiteral: (hostname) => isAddressLiteral(ipaddr, hostname) };
  });
  return checks;
}

/**
 * True for a public unicast address (ipaddr.js's `range()` is `unicast`, an IPv4-mapped IPv6 address judged as
 * its IPv4 address). Everything else is not: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, where
 * cloud metadata services answer, fe80::/10), unspecified, carrier-grade NAT, multicast, broadcast, reserved, and
 * the IPv6 ranges that embed another address (6to4, Teredo, NAT64). Not an IP address at all: false.
 */
function isPublicAddress(ipaddr: IpAddr, address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) return false;
  return ipaddr.process(bare).range() === 'unicast';
}

/** True when `hostname` (a URL's, IPv6 in brackets) is an IP address literal. */
function isAddressLiteral(ipaddr: IpAddr, hostname: string): boolean {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare);
}

/**
 * The addresses `hostname` resolves to (every one, as the system resolver answers them), through `node:dns` where the
 * runtime has it; undefined where it has not (edge runtimes: only an address literal can be checked there).
 * Rejects when the name does not resolve.
 */
export async function resolveHost(hostname: string): Promise<string[] | undefined> {
  let dns: typeof import('node:dns');
  try {
    dns = await import('node:dns');
  } catch {
    return undefined;
  }
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
}
