/**
 * `shutdownDelayMs`: once `close()` is called, `/ready` answers 503 `shutting down` on every connection, new ones
 * too, while the listener keeps accepting and serving requests for the delay (a Kubernetes endpoint removal or a
 * load balancer's health check takes some seconds to stop sending); then it stops accepting and closes as
 * without a delay. Without one (the default), `close()` stops accepting at once.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHarness, mockModel } from '../test-support/harness.js';
import { serveGateway } from './serve-gateway.js';

/** Whether a new TCP connection to `url` is accepted. */
function accepts(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('serveGateway shutdownDelayMs', () => {
  it('during the delay /ready is 503 on a new connection and model requests are served; then the listener closes', async () => {
    const h = await createHarness({ models: [mockModel('mock')] });
    const served = await serveGateway(h.gateway, { port: 0, shutdownDelayMs: 800 });
    try {
      expect((await fetch(`${served.url}/ready`, { headers: { connection: 'close' } })).status).toBe(200);
      const started = performance.now();
      const closed = served.close(1_000).then(() => performance.now() - started);
      const ready = await fetch(`${served.url}/ready`, { headers: { connection: 'close' } });
      expect({ status: ready.status, body: (await ready.json()) as unknown }).toMatchObject({ status: 503, body: { reason: 'shutting down' } });
      const answer = await chat(served.url);
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('Mock answer to: hi');
      const waited = await closed;
      expect(waited).toBeGreaterThanOrEqual(750);
      expect(await accepts(served.url)).toBe(false);
    } finally {
      await served.close(0);
      await h.close();
    }
  });

  it('without a delay close() stops accepting at once', async () => {
    const h = await createHarness({ models: [mockModel('mock')] });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const closed = served.close(1_000);
      expect(await accepts(served.url)).toBe(false);
      await closed;
    } finally {
      await h.close();
    }
  });

  it('a bad delay is refused before listening', async () => {
    const h = await createHarness({ models: [mockModel('mock')] });
    try {
      await expect(serveGateway(h.gateway, { port: 0, shutdownDelayMs: -1 })).rejects.toThrow(/shutdownDelayMs must be an integer/);
    } finally {
      await h.close();
    }
  });
});
