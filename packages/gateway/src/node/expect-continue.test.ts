/**
 * `Expect: 100-continue` (curl sends it for bodies over 1 MB): a request whose declared `Content-Length` is over the
 * gateway's `maxBodyBytes` is refused with the 413 error body at once, without `100 Continue`, so the client never
 * sends the body, and so is a POST in a content coding (the 415 naming `content-encoding`; a GET is answered as without
 * `Expect`) and a POST to a model route that says no body length (the 411); one within the limit gets `100 Continue` and
 * is answered as usual.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rawConnection } from '../test-support/raw-http.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

const MAX = 64 * 1024;

/** A POST sending `Expect: 100-continue` and the body only once the server says continue (node:http's client). */
function expectContinue(url: string, path: string, body: string, declared = Buffer.byteLength(body)): Promise<{ continued: boolean; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    let continued = false;
    const req = httpRequest(
      { host: u.hostname, port: u.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(declared), expect: '100-continue' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ continued, status: res.statusCode!, text }));
      },
    );
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('Expect: 100-continue', () => {
  let h: Harness;
  let served: ServedGateway;
  beforeAll(async () => {
    h = await createHarness({ models: [mockModel('mock')], gateway: { limits: { maxBodyBytes: MAX } } });
    served = await serveGateway(h.gateway, { port: 0 });
  });
  afterAll(async () => {
    await served?.close(500);
    await h?.close();
  });

  it('a declared body over maxBodyBytes is a 413 with the error body, and no 100 Continue', async () => {
    for (const [path, style] of [['/v1/chat/completions', 'openai'], ['/v1/messages', 'anthropic'], ['/admin/tenants', 'openai']] as const) {
      const res = await expectContinue(served.url, path, '{}', MAX + 1);
      expect({ path, continued: res.continued, status: res.status }).toEqual({ path, continued: false, status: 413 });
      const body = JSON.parse(res.text) as { type?: string; error: { code: string; param: string | null } };
      expect({ path, type: body.type, code: body.error.code, param: body.error.param }).toEqual({ path, type: style === 'anthropic' ? 'error' : undefined, code: 'payload_too_large', param: 'body' });
    }
  });

  it('a body in a content coding is a 415 naming content-encoding at once, with no 100 Continue (its body is not sent) and connection: close; a charset is judged on the body, so it gets its 100', async () => {
    const head = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: 30\r\nexpect: 100-continue\r\n${extra}\r\n`;
    for (const [path, style] of [['/v1/chat/completions', 'openai'], ['/v1/messages', 'anthropic'], ['/api/route', 'openai']] as const) {
      const c = rawConnection(served.url);
      c.socket.write(head(path, 'content-encoding: gzip\r\n'));
      // The client waits for the 100 before sending its body: the answer comes without it.
      await c.closed;
      const raw = c.raw();
      expect({ path, start: raw.slice(0, 12) }).toEqual({ path, start: 'HTTP/1.1 415' });
      expect(raw.toLowerCase()).toContain('\r\nconnection: close\r\n');
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { type?: string; error: { code: string; param: string | null } };
      expect({ path, type: body.type, code: body.error.code, param: body.error.param }).toEqual({ path, type: style === 'anthropic' ? 'error' : undefined, code: 'unsupported_media_type', param: 'content-encoding' });
    }
    // UTF-8 JSON labelled utf-16 is served (RFC 8259: JSON is UTF-8): only its bytes tell, so it is asked for.
    const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    const c = rawConnection(served.url);
    c.socket.write(head('/v1/chat/completions', 'connection: close\r\n').replace('content-length: 30', `content-length: ${Buffer.byteLength(body)}`).replace('application/json', 'application/json; charset=utf-16'));
    await vi.waitFor(() => expect(c.raw()).toBe('HTTP/1.1 100 Continue\r\n\r\n'), { timeout: 5000 });
    c.socket.write(body);
    await c.closed;
    expect(c.raw()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  });

  it('a POST to a model route that says no body length is its 411 naming content-length at once, with no 100 Continue (its body would never be read) and connection: close', async () => {
    for (const [path, type] of [['/v1/chat/completions', undefined], ['/v1/messages', 'error']] as const) {
      const c = rawConnection(served.url);
      c.socket.write(`POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n\r\n`);
      await c.closed;
      const raw = c.raw();
      expect({ path, start: raw.slice(0, 12) }).toEqual({ path, start: 'HTTP/1.1 411' });
      expect(raw.toLowerCase()).toContain('\r\nconnection: close\r\n');
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { type?: string; error: { param: string | null } };
      expect({ path, type: body.type, param: body.error.param }).toEqual({ path, type, param: 'content-length' });
    }
  });

  it('an HTTP/1.1 request without Host gets its 400 naming host first, with no 100 Continue, whatever else its head would be refused for', async () => {
    const heads = [
      'POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n\r\n',
      `POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: ${MAX + 1}\r\nexpect: 100-continue\r\n\r\n`,
      'POST /v1/messages HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 30\r\ncontent-encoding: gzip\r\nexpect: 100-continue\r\n\r\n',
      'POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 30\r\nexpect: 100-continue\r\n\r\n',
    ];
    for (const head of heads) {
      const c = rawConnection(served.url);
      c.socket.write(head);
      // (The answer is whole once its JSON body is: a declared body over 64 KB keeps the connection open for a while
      // to drop it, should the client send it anyway.)
      await vi.waitFor(() => expect(c.raw()).toMatch(/\r\n\r\n\{.*\}$/s), { timeout: 5000 });
      c.socket.destroy();
      const raw = c.raw();
      expect({ head, start: raw.slice(0, 12) }).toEqual({ head, start: 'HTTP/1.1 400' });
      expect(raw.toLowerCase()).toContain('\r\nconnection: close\r\n');
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { param: string | null } };
      expect({ head, param: body.error.param }).toEqual({ head, param: 'host' });
    }
  });

  it('a content coding on a method whose body no route decodes (GET /health) is answered as without Expect: 100 Continue, then its 200', async () => {
    const statuses = async (expectContinue: boolean) => {
      const c = rawConnection(served.url);
      c.socket.write(`GET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\ncontent-encoding: gzip\r\ncontent-length: 0\r\n${expectContinue ? 'expect: 100-continue\r\n' : ''}\r\n`);
      await c.closed;
      return [...c.raw().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    };
    expect({ plain: await statuses(false), continued: await statuses(true) }).toEqual({ plain: ['200'], continued: ['100', '200'] });
  });

  it('a body within the limit gets 100 Continue and its answer', async () => {
    const res = await expectContinue(served.url, '/v1/chat/completions', JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }));
    expect({ continued: res.continued, status: res.status }).toEqual({ continued: true, status: 200 });
    expect((JSON.parse(res.text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('Mock answer to: hi');
  });

  it('curl posting a body over the limit (it sends Expect: 100-continue for it) gets the 413 without sending the body', async () => {
    const big = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] });
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile('curl', ['-sS', '-v', '--data-binary', '@-', '-H', 'content-type: application/json', `${served.url}/v1/chat/completions`], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
        err ? reject(err) : resolve(`${stderr}\n${stdout}`),
      );
      child.stdin!.end(big);
    });
    expect(out).toMatch(/> Expect: 100-continue/i);
    expect(out).not.toMatch(/< HTTP\/1\.1 100 Continue/i);
    expect(out).toMatch(/< HTTP\/1\.1 413/);
    expect(out).toContain('"code":"payload_too_large"');
  });
});
