import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, serveWithKey, type Harness } from '../test-support/harness.js';
import { rawConnection } from '../test-support/raw-http.js';
import type { ServedGateway } from './serve-gateway.js';

// A client that half-closes after sending its requests (shutdown(SHUT_WR), `printf ... | nc -N`, `socket.end()`) and
// keeps reading: node:http answers its requests (on FIN it ends the socket after the answers written: `socketOnEnd`).
// With a CONNECT behind them (`answerConnect` reads the socket node:http handed over), an answer already made is still
// written whole, then the 405. (An answer still being made when the FIN comes is cut either way: node:http ends the
// socket, the gateway cancels the call.)

describe('a client that half-closes after a POST (and a CONNECT) and keeps reading', () => {
  let h: Harness | undefined;
  let served: ServedGateway | undefined;
  afterEach(async () => {
    await served?.close(0);
    await h?.close();
    h = undefined;
    served = undefined;
  });

  /** The client reads nothing until the answer ahead has been made (res.end called, its bytes buffered), then half-closes and reads. */
  async function halfClosedWhileBuffered(tail: string): Promise<{ answered: boolean; statuses: string[] }> {
    const huge = 'y'.repeat(16_000_000);
    h = await createHarness({ stores: 'memory', models: [mockModel('huge', { reply: huge })] });
    const s = await serveWithKey(h);
    served = s.served;
    let made: ServerResponse | undefined;
    served.server.on('request', (_req: IncomingMessage, res: ServerResponse) => (made = res));
    const chat = JSON.stringify({ model: 'huge', messages: [{ role: 'user', content: 'hi' }] });
    const c = rawConnection(served.url);
    c.socket.pause();
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${s.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}` + tail,
    );
    await vi.waitFor(() => expect(made?.writableEnded && (made.socket?.writableLength ?? 0) > 0).toBe(true), { timeout: 10_000 });
    c.socket.end();
    // Let the FIN reach the server before reading on (the server's socket notices it: its readable side ends).
    await vi.waitFor(() => expect(made!.socket === null || made!.socket.readableEnded || made!.socket.destroyed).toBe(true), { timeout: 5_000 }).catch(() => undefined);
    c.socket.resume();
    const guard = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref());
    await Promise.race([c.closed, guard]);
    const raw = c.raw();
    c.socket.destroy();
    return { answered: raw.includes(huge.slice(0, 1000)) && raw.split('y').length - 1 >= huge.length, statuses: [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]!) };
  }

  it('an answer made whole and buffered: no CONNECT behind it, node:http writes it all after the FIN', async () => {
    expect(await halfClosedWhileBuffered('')).toEqual({ answered: true, statuses: ['200'] });
  });

  it('an answer made whole and buffered: a CONNECT behind it, the FIN does not cut it (written whole, then the 405)', async () => {
    expect(await halfClosedWhileBuffered('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n')).toEqual({ answered: true, statuses: ['200', '405'] });
  });
});
