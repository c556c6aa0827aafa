/**
 * The client address the audit log records, behind a load balancer: without `trustedProxies` the connection's peer
 * (an `X-Forwarded-For` any client can write is never read); with them, the right-most hop of `X-Forwarded-For` that
 * is not a trusted proxy, as Express's `trust proxy` and nginx's `real_ip_recursive` take it. Real servers on
 * loopback (the peer is 127.0.0.1), both paths: a model route served directly and a route through `gateway.fetch`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';
import { trustedProxies } from './client-address.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const chat = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
const BAD_KEY = { authorization: 'Bearer llmrr_not-a-real-key-at-all', 'content-type': 'application/json' };

/** The address audited for an auth failure sent with `forwardedFor` (direct path: chat; through the app: /v1/models). */
async function auditedIp(h: Harness, served: ServedGateway, forwardedFor: string | undefined, route: 'direct' | 'app'): Promise<unknown> {
  const headers: Record<string, string> = forwardedFor === undefined ? { ...BAD_KEY } : { ...BAD_KEY, 'x-forwarded-for': forwardedFor };
  const res = route === 'direct' ? await send(served.url, 'POST', '/v1/chat/completions', chat, headers) : await send(served.url, 'GET', '/v1/models', undefined, headers);
  expect(res.status).toBe(401);
  const rows = await h.stores!.audit.list({ action: 'auth.failure' });
  return rows.find((r) => r.details?.requestId === res.headers['x-request-id'])?.ip;
}

describe('the audited client address', () => {
  const opened: Array<{ h: Harness; served: ServedGateway }> = [];
  async function serve(trusted?: string[]) {
    const h = await createHarness({ models: [mockModel('mock')], stores: 'memory' });
    const served = await serveGateway(h.gateway, { port: 0, ...(trusted ? { trustedProxies: trusted } : {}) });
    opened.push({ h, served });
    return { h, served };
  }
  // A server per test: the audit writes the first failure of an address in a window, and counts the others.
  const behindLb = () => serve(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  afterAll(async () => {
    for (const { h, served } of opened.splice(0)) {
      await served.close(1000);
      await h.close();
    }
  });

  it.each(['direct', 'app'] as const)('without trusted proxies X-Forwarded-For is ignored: the peer (%s)', async (route) => {
    const { h, served } = await serve();
    expect(await auditedIp(h, served, '203.0.113.9', route)).toBe('127.0.0.1');
  });

  it.each(['direct', 'app'] as const)('behind a trusted proxy: the right-most untrusted hop (%s)', async (route) => {
    const { h, served } = await behindLb();
    // The client wrote the first hop itself; the proxy appended the address it saw.
    expect(await auditedIp(h, served, '198.51.100.1, 203.0.113.9', route)).toBe('203.0.113.9');
    // Two trusted proxies in a row (an ingress behind the load balancer): skipped.
    expect(await auditedIp(h, served, '198.51.100.1, 10.1.2.3', route)).toBe('198.51.100.1');
    expect(await auditedIp(h, served, '2001:db8::7, fd00::1', route)).toBe('2001:db8::7');
    // Ports and brackets some proxies add.
    expect(await auditedIp(h, served, '[2001:db8::8]:4433', route)).toBe('2001:db8::8');
    expect(await auditedIp(h, served, '203.0.113.10:5678', route)).toBe('203.0.113.10');
    // No header: the peer.
    expect(await auditedIp(h, served, undefined, route)).toBe('127.0.0.1');
  });

  it('a hop that is no address stops the walk at the proxy that passed it; every hop trusted: the left-most', async () => {
    const { h, served } = await behindLb();
    expect(await auditedIp(h, served, 'not-an-ip', 'direct')).toBe('127.0.0.1');
    expect(await auditedIp(h, served, '203.0.113.9, <script>, 10.0.0.2', 'direct')).toBe('10.0.0.2');
    expect(await auditedIp(h, served, '10.0.0.3, 10.0.0.2', 'direct')).toBe('10.0.0.3');
  });

  // An IPv4-mapped IPv6 range (`::ffff:127.0.0.0/104`: 96 bits of prefix plus the IPv4 /8) trusts the IPv4 peers it
  // maps: the loopback peer here is 127.0.0.1, as an IPv4 socket reports it.
  it('an IPv4-mapped IPv6 CIDR range trusts the IPv4 proxies it maps', async () => {
    const { h, served } = await serve(['::ffff:127.0.0.0/104']);
    expect(await auditedIp(h, served, '198.51.100.1, 203.0.113.9', 'direct')).toBe('203.0.113.9');
    const mapped = trustedProxies(['::ffff:10.0.0.0/104', '2001:db8::/32', '::ffff:0:0/96'])!;
    expect(['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::1', '11.0.0.1'].map((a) => mapped.has(a))).toEqual([true, true, true, true]);
    const narrow = trustedProxies(['::ffff:10.0.0.0/104'])!;
    expect(['10.1.2.3', '::ffff:a01:203', '11.0.0.1', '::1'].map((a) => narrow.has(a))).toEqual([true, true, false, false]);
    for (const bad of ['::ffff:10.0.0.0/129', '::ffff:10.0.0/104']) expect(() => trustedProxies([bad]), bad).toThrow(RangeError);
    // The hex and long forms are the same IPv4-mapped entries.
    const written = trustedProxies(['0:0:0:0:0:ffff:192.168.0.0/112', '::ffff:a00:7'])!;
    expect(['192.168.4.4', '192.169.0.1', '10.0.0.7', '::ffff:10.0.0.7', '10.0.0.8'].map((a) => written.has(a))).toEqual([true, false, true, true, false]);
  });

  // `::ffff:10.0.0.0/8` (the IPv4 prefix on the IPv6 form, as an operator reading dual-stack socket addresses may
  // write it) read as IPv6 is a /8 holding all of `::ffff:0:0/96`: every IPv4 client would be a trusted proxy whose
  // X-Forwarded-For is believed. It is refused, naming the two spellings of what was meant.
  it('an IPv4-mapped entry with a prefix under 96 is refused, naming a.b.c.d/N and ::ffff:a.b.c.d/(96+N)', async () => {
    expect(() => trustedProxies(['::ffff:10.0.0.0/8'])).toThrow(new RangeError(
      'trustedProxies: "::ffff:10.0.0.0/8" is an IPv4-mapped address with a prefix under 96, which as IPv6 would hold every IPv4 address: write the IPv4 range 10.0.0.0/8 or the IPv4-mapped one ::ffff:10.0.0.0/104',
    ));
    for (const bad of ['::ffff:10.0.0.0/0', '::ffff:a00:0/95', '0:0:0:0:0:ffff:10.0.0.0/64', '::ffff:10.0.0.0%eth0/8']) {
      expect(() => trustedProxies([bad]), bad).toThrow(/prefix under 96.*10\.0\.0\.0\/(\d+|N) or the IPv4-mapped one ::ffff:10\.0\.0\.0\//);
    }
    // The server does not start with it: a client on 127.0.0.1 never gets to forge its audited address.
    const h = await createHarness({ models: [mockModel('mock')], stores: 'memory' });
    try {
      await expect(serveGateway(h.gateway, { port: 0, trustedProxies: ['::ffff:10.0.0.0/8'] })).rejects.toThrow(RangeError);
    } finally {
      await h.close();
    }
  });

  it('an entry that is no address or CIDR range is refused when the server starts', () => {
    for (const bad of ['10.0.0.0/33', 'lb.internal', '10.0.0/8', '::1/129', '']) expect(() => trustedProxies([bad])).toThrow(RangeError);
    expect(trustedProxies([])).toBeUndefined();
    expect(trustedProxies(['::ffff:10.0.0.1'])?.has('10.0.0.1')).toBe(true);
    expect(trustedProxies(['10.0.0.0/8'])?.has('::ffff:10.9.9.9')).toBe(true);
  });
});
