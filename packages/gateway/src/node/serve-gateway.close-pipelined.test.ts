/**
 * close(graceMs) on keep-alive connections: pipelined requests the server had already taken are all answered
 * (only the connection's last one says `connection: close`), and an answer in flight on a route served through
 * gateway.fetch says `connection: close` as the model routes' do; a `/ready` taken while closing answers 503.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHarness, mockModel } from '../test-support/harness.js';
import { serveGateway } from './serve-gateway.js';

const body = JSON.stringify({ model: 'late', messages: [{ role: 'user', content: 'hi' }] });

describe('serveGateway close(): pipelined requests and the gateway.fetch routes', () => {
  it('answers both pipelined requests the server had already taken when close() started', async () => {
    const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const one = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      let handled = 0;
      const bothTaken = new Promise<void>((resolve) =>
        served.server.on('request', () => {
          if (++handled === 2) resolve();
        }),
      );
      const u = new URL(served.url);
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
      socket.on('error', () => {});
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('connect', () => socket.write(one + one));
      // Both requests are in the gateway (both model calls run) before close() starts.
      await bothTaken;
      const closed = served.close(8000);
      // Until the connection closes, or both answers are in.
      await Promise.race([ended, expect.poll(() => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).length, { timeout: 4000, interval: 20 }).toBe(2).catch(() => {})]);
      socket.destroy();
      await closed;
      const statuses = (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim());
      expect(statuses, `the second request was taken (its model call ran) but never answered; raw: ${JSON.stringify(raw.slice(0, 300))}`).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);

  it('a /ready the server takes on a busy connection after close() started answers 503 (shutting down)', async () => {
    const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const u = new URL(served.url);
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
      socket.on('error', () => {});
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      let handled = 0;
      const taken = (n: number) => new Promise<void>((resolve) => served.server.on('request', () => ++handled >= n && resolve()));
      const first = taken(1);
      socket.on('connect', () => socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
      // The model call runs (the connection is busy) when close() starts; then a probe comes on that connection.
      await first;
      const closed = served.close(8000);
      const second = taken(2);
      socket.write('GET /ready HTTP/1.1\r\nhost: gw\r\n\r\n');
      await second;
      await Promise.race([ended, expect.poll(() => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).length, { timeout: 4000, interval: 20 }).toBe(2).catch(() => {})]);
      socket.destroy();
      await closed;
      expect((raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim()), `raw: ${JSON.stringify(raw.slice(0, 400))}`).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503']);
      expect(raw).toContain('"reason":"shutting down"');
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);

  it('an answer in flight at close() on a route served through gateway.fetch says connection: close too', async () => {
    // A browser client (an allowed Origin): its chat completions go through gateway.fetch, not the direct route.
    const h = await createHarness({ models: [mockModel('late', { delayMs: 600 })], gateway: { cors: { origins: '*' } } });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const u = new URL(served.url);
      const got = new Promise<void>((resolve) => served.server.once('request', () => resolve()));
      const answer = new Promise<{ status: number | undefined; connection: string | undefined; cors: unknown }>((resolve, reject) => {
        const req = httpRequest(
          { host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.example.com', connection: 'keep-alive' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, cors: res.headers['access-control-allow-origin'] }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      await got;
      // close() starts while the answer is being made: its headers go out after close().
      const closed = served.close(8000);
      const a = await answer;
      await closed;
      // (The cors header shows the request went through gateway.fetch.)
      expect(a).toEqual({ status: 200, connection: 'close', cors: '*' });
    } finally {
      await served.close(100);
      await h.close();
    }
  }, 20_000);
});
