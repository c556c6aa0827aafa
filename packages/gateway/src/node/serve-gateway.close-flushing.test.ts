/**
 * close(graceMs) and answers still being written to a slow client: an answer ended but larger than the socket buffers
 * is not cut short by close() (node:http's closeIdleConnections() counts such a connection as idle), neither when
 * close() starts nor when another answer finishes during the grace; a model answer pipelined behind it is sent after
 * it. A request pipelined after close() behind an answer that already said `connection: close` cannot be answered:
 * it is not served (no model call runs for it).
 */
import { describe, expect, it, vi } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { rawConnection, requestsTaken } from '../test-support/raw-http.js';
import { answerBody, chatRequest, closeServed, holdModel, ledgerStatuses, readUntil, servedWithKey, statusLines, waitForLedger, writeTaken } from './__fixtures__/served-close.js';

// About 8 MB: more than the loopback socket buffers take while the client does not read.
const reply = 'word '.repeat(1_600_000).trim();

describe('serveGateway close(): an answer still being written to a slow client', () => {
  it('a large answer ended but still being written when close() starts is sent whole within the grace', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply })]);
    try {
      const c = rawConnection(served.url);
      // The client reads nothing for now (a slow client).
      c.socket.pause();
      await writeTaken(served, c, chatRequest(secret, 'big'));
      await waitForLedger(h, ['success']);
      const closed = served.close(8000);
      // The client reads it now, well within the grace.
      await readUntil(c, () => answerBody(c.raw()) !== undefined);
      c.socket.destroy();
      await closed;
      expect({ received: c.raw().length > 1_000_000, whole: answerBody(c.raw()) !== undefined }).toEqual({ received: true, whole: true });
    } finally {
      await closeServed(h, served);
    }
  }, 30_000);

  it('a large answer still being written is not cut short when another connection\'s answer finishes during the grace', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply }), mockModel('small')]);
    const openBig = holdModel(h, 'big');
    const openSmall = holdModel(h, 'small');
    try {
      const x = rawConnection(served.url);
      x.socket.pause();
      const y = rawConnection(served.url);
      const two = requestsTaken(served.server, 2);
      x.socket.write(chatRequest(secret, 'big'));
      y.socket.write(chatRequest(secret, 'small'));
      await two;
      // Both are in flight when close() starts (neither connection is idle).
      const closed = served.close(8000);
      openBig();
      await waitForLedger(h, ['success']);
      // The big answer is ended and being written (its client reads nothing yet); now the small one finishes.
      openSmall();
      await vi.waitFor(() => expect(statusLines(y.raw())).toEqual(['HTTP/1.1 200']), { timeout: 10_000, interval: 20 });
      await readUntil(x, () => answerBody(x.raw()) !== undefined);
      x.socket.destroy();
      y.socket.destroy();
      await closed;
      expect({ whole: answerBody(x.raw()) !== undefined }).toEqual({ whole: true });
    } finally {
      await closeServed(h, served, openBig, openSmall);
    }
  }, 30_000);

  it('a model answer pipelined behind a large answer still being written when close() starts is sent', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply }), mockModel('fast')]);
    try {
      const c = rawConnection(served.url);
      c.socket.pause();
      await writeTaken(served, c, chatRequest(secret, 'big') + chatRequest(secret, 'fast'), 2);
      await waitForLedger(h, ['success', 'success']);
      const closed = served.close(8000);
      await readUntil(c, () => statusLines(c.raw()).length === 2 && /"object":"chat\.completion"[^]*"object":"chat\.completion"/.test(c.raw()));
      c.socket.destroy();
      await closed;
      expect({ received: c.raw().length, statuses: statusLines(c.raw()) }).toMatchObject({ statuses: ['HTTP/1.1 200', 'HTTP/1.1 200'] });
    } finally {
      await closeServed(h, served);
    }
  }, 30_000);

  it('a request pipelined after close() behind an answer that already said connection: close is not served: no model call runs for it', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply }), mockModel('fast')]);
    const openBig = holdModel(h, 'big');
    const calls: string[] = [];
    const generate = h.router.generate;
    h.router.generate = (async (request: Parameters<typeof generate>[0], options: Parameters<typeof generate>[1]) => {
      calls.push(String((request as { messages?: Array<{ content?: unknown }> }).messages?.[0]?.content));
      return generate.call(h.router, request, options);
    }) as typeof generate;
    try {
      const c = rawConnection(served.url);
      c.socket.pause();
      await writeTaken(served, c, chatRequest(secret, 'big'));
      const closed = served.close(8000);
      // Answered after close() started, the last request on its connection: its headers say connection: close; its
      // client reads nothing yet, so most of it is still being written.
      openBig();
      await waitForLedger(h, ['success']);
      await writeTaken(served, c, chatRequest(secret, 'fast'));
      await readUntil(c, () => false);
      await closed;
      expect({ head: /\r\nconnection: close\r\n/i.test(c.raw().slice(0, c.raw().indexOf('\r\n\r\n') + 2)), whole: answerBody(c.raw()) !== undefined, statuses: statusLines(c.raw()) }).toEqual({ head: true, whole: true, statuses: ['HTTP/1.1 200'] });
      expect({ calls, rows: await ledgerStatuses(h) }).toEqual({ calls: ['big'], rows: ['success'] });
    } finally {
      await closeServed(h, served, openBig);
    }
  }, 30_000);
});
