import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, serveWithKey, type Harness } from '../test-support/harness.js';
import { rawConnection } from '../test-support/raw-http.js';
import type { ServedGateway } from './serve-gateway.js';

// A client that half-closes after sending its requests (shutdown(SHUT_WR), `printf ... | nc -N`, `socket.end()`) and
// keeps reading: node:http answers its requests (on FIN it ends the socket after the answers written: `socketOnEnd`).
// With a CONNECT behind them (`answerConnect` reads the socket node:http handed over) the FIN ends the connection: a
// stream still being made ahead is cancelled (not run on to its end for a client that left), as node:http does without
// a CONNECT; an answer already made but not all written is cut too (documented).

// One served gateway per test (each test starts its own), closed after it.
let h: Harness | undefined;
let served: ServedGateway | undefined;
afterEach(async () => {
  await served?.close(0);
  await h?.close();
  h = undefined;
  served = undefined;
});

describe('a client that half-closes after a POST (and a CONNECT) and keeps reading', () => {
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
});

describe('the client\u2019s FIN with a stream still being made ahead of a made answer and a CONNECT', () => {
  async function finAfter(tail: string): Promise<'closed' | 'hung'> {
    const words = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
    h = await createHarness({ stores: 'memory', models: [mockModel('slow', { reply: words, chunkDelayMs: 100 })] });
    const s = await serveWithKey(h);
    served = s.served;
    const made: ServerResponse[] = [];
    served.server.on('request', (_req: IncomingMessage, res: ServerResponse) => made.push(res));
    const chat = JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const c = rawConnection(served.url);
    c.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${s.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}` +
        `GET /v1/models HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${s.secret}\r\n\r\n` +
        tail,
    );
    // The stream has started, and the GET behind it has been answered (ended, queued behind the stream).
    await vi.waitFor(() => expect(made.length === 2 && made[0]!.headersSent && made[1]!.writableEnded && !made[0]!.writableEnded).toBe(true), { timeout: 10_000 });
    c.socket.end();
    const guard = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref());
    const outcome = await Promise.race([c.closed.then(() => 'closed' as const), guard]);
    c.socket.destroy();
    return outcome;
  }

  it('control, no CONNECT: node:http ends the connection on the FIN (the stream is cut)', async () => {
    expect(await finAfter('')).toBe('closed');
  }, 30_000);

  it('with a CONNECT behind: the FIN cuts the stream still being made as well', async () => {
    expect(await finAfter('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n')).toBe('closed');
  }, 30_000);
});
