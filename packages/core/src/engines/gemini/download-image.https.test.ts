/**
 * The pinned image download over https: a host name that does not resolve (`.invalid`) is connected to at the address
 * checked (pinnedFetch's `lookup`), sends the URL's host as the TLS server name (SNI) and Host header, and takes the
 * server's certificate only when it chains to a trusted CA and names that host. A local https server on 127.0.0.1 with
 * a certificate made at test time (`openssl req -x509`), trusted through pinnedFetch's test-only `ca` option.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * A self-signed certificate for `host` only (its own CA), valid for a day, made by the `openssl` command given (never
 * checked in); or why it could not be made: no openssl, or one without `req -addext` (OpenSSL before 1.1.1, LibreSSL).
 */
function makeCertificate(openssl: string, host: string): { key: Buffer; cert: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-pinned-tls-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', keyFile, '-out', certFile];
    const made = spawnSync(openssl, args, { encoding: 'utf8' });
    if (made.error || made.status !== 0) {
      const said = made.error?.message ?? made.stderr.split('\n').map((line) => line.trim()).find(Boolean) ?? `exit status ${made.status}`;
      return { skip: `openssl could not make the test certificate: ${said.slice(0, 200)}` };
    }
    return { key: readFileSync(keyFile), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const made = makeCertificate('openssl', HOST);
const skipReason = 'skip' in made ? made.skip : undefined;

let server: Server;
let port = 0;
let cert = '';
/** The TLS server name (SNI) of each connection, and the Host header of each request. */
const serverNames: Array<string | false | null> = [];
const hosts: string[] = [];

beforeAll(async () => {
  if ('skip' in made) return;
  cert = made.cert;
  server = createServer({ key: made.key, cert }, (req, res) => {
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

describe.skipIf(skipReason !== undefined)(`pinned image download over https${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
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

// An openssl that makes no certificate (here one that knows no `-addext`, as OpenSSL before 1.1.1 and LibreSSL) skips
// the suite above, saying why, instead of failing it.
describe.skipIf(process.platform === 'win32')('the test certificate', () => {
  it('an openssl without -addext: a skip, with what openssl said', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-old-openssl-'));
    try {
      const openssl = join(dir, 'openssl');
      writeFileSync(openssl, '#!/bin/sh\necho "req: Unrecognized flag addext" >&2\nexit 1\n');
      chmodSync(openssl, 0o755);
      expect(makeCertificate(openssl, HOST)).toEqual({ skip: 'openssl could not make the test certificate: req: Unrecognized flag addext' });
      expect(makeCertificate(join(dir, 'none'), HOST)).toEqual({ skip: expect.stringMatching(/^openssl could not make the test certificate: .*ENOENT/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
