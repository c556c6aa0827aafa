/**
 * The pinned image download over https: a host name that does not resolve (`.invalid`) is connected to at the address
 * checked (pinnedFetch's `lookup`), sends the URL's host as the TLS server name (SNI) and Host header, and takes the
 * server's certificate only when it chains to a trusted CA and names that host. A local https server on 127.0.0.1 with
 * a certificate made at test time (`openssl req -x509`), trusted through pinnedFetch's test-only `ca` option.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { pinnedFetch } from '../shared/pinned-fetch.js';
import { downloadImage, type ImageDownloadSettings } from './download-image.js';

const HOST = 'images.pinned.invalid';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

let server: Server;
let port = 0;
let cert = '';
let dir = '';
/** The TLS server name (SNI) of each connection, and the Host header of each request. */
const serverNames: Array<string | false | null> = [];
const hosts: string[] = [];

beforeAll(async () => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'llmrr-pinned-tls-'));
  // A self-signed certificate for HOST only (its own CA), valid for a day: made here, never checked in.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    hosts.push(req.headers.host ?? '');
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) });
    res.end(PNG);
  });
  server.on('secureConnection', (socket: TLSSocket) => serverNames.push(socket.servername));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The Gemini engine's download settings with the host resolved (once) to 127.0.0.1, counted as public, and `ca` trusted. */
function settings(ca: string | undefined): ImageDownloadSettings {
  return {
    provider: 'gemini',
    fetch: () => Promise.reject(new Error('the engine fetch is not used for a checked host name')),
    resolveHost: async () => ['127.0.0.1'],
    isPublicAddress: (address) => address === '127.0.0.1',
    pinnedFetch: (addresses) => pinnedFetch(addresses, ca === undefined ? {} : { ca }),
  };
}

describe.skipIf(!hasOpenssl)('pinned image download over https (skipped: no openssl to make the test certificate)', () => {
  it('connects to the checked address with the URL host as TLS server name and Host, and gets the image', async () => {
    serverNames.length = 0;
    hosts.length = 0;
    const part = await downloadImage(`https://${HOST}:${port}/cat.png`, 'messages.0.content.1.image_url', settings(cert));
    expect(part).toEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
    expect(serverNames).toEqual([HOST]);
    expect(hosts).toEqual([`${HOST}:${port}`]);
  });

  it('refuses a certificate that does not name the URL host (no image, the name check failing)', async () => {
    const other = `other.pinned.invalid`;
    const failure = await (await pinnedFetch(['127.0.0.1'], { ca: cert }))(`https://${other}:${port}/cat.png`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError & { cause?: { code?: string } }).cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // Through the engine's download: the request's error, naming the part.
    const refused = await downloadImage(`https://${other}:${port}/cat.png`, 'messages.0.content.1.image_url', settings(cert)).catch((e: unknown) => e);
    expect(LLMError.isInstance(refused) && refused.code).toBe('invalid_request');
    expect((refused as LLMError).param).toBe('messages.0.content.1.image_url');
  });

  it("refuses a certificate Node's own CAs do not trust (no test CA given)", async () => {
    const failure = await (await pinnedFetch(['127.0.0.1']))(`https://${HOST}:${port}/cat.png`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError & { cause?: { code?: string } }).cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});
