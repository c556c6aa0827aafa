/**
 * close(graceMs) and answers still being written to a slow client: an answer ended but larger than the socket buffers
 * is not cut short by close() (node:http's closeIdleConnections() counts such a connection as idle), neither when
 * close() starts nor when another answer finishes during the grace; a model answer pipelined behind it is sent after
 * it. A request pipelined after close() behind an answer that already said `connection: close` cannot be answered:
 * it is not served (no model call runs for it).
 */
import { describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, type Harness, type ModelInput } from '../test-support/harness.js';
import { rawConnection, requestsTaken, type RawConnection } from '../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

async function servedWithKey(models: ModelInput[]): Promise<{ h: Harness; served: ServedGateway; secret: string }> {
  const h = await createHarness({ stores: 'memory', models });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 8 } });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
  return { h, served: await serveGateway(h.gateway, { port: 0, cutSettleMs: 20_000 }), secret };
}

function chatRequest(secret: string, model: string): string {
  const json = JSON.stringify({ model, messages: [{ role: 'user', content: model }] });
  return `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

const statusLines = (raw: string) => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim());
const ledgerStatuses = async (h: Harness) => (await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 })).map((r) => r.status);

/** The first answer's body once whole (content-length or chunked), else undefined. */
function firstBody(raw: string): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const rest = raw.slice(end + 4);
  const length = /\r\ncontent-length: (\d+)/i.exec(raw.slice(0, end));
  if (length) return rest.length >= Number(length[1]) ? rest.slice(0, Number(length[1])) : undefined;
  let text = '';
  for (let i = 0; ; ) {
    const eol = rest.indexOf('\r\n', i);
    if (eol < 0) return undefined;
    const size = Number.parseInt(rest.slice(i, eol), 16);
    if (size === 0) return text;
    if (rest.length < eol + 2 + size + 2) return undefined;
    text += rest.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

/** Reads what the server sends until the connection closes or `done` holds (at most 10 s). */
async function readUntil(c: RawConnection, done: () => boolean): Promise<void> {
  c.socket.resume();
  await Promise.race([c.closed, vi.waitFor(() => expect(done()).toBe(true), { timeout: 10_000, interval: 20 }).catch(() => {})]);
}

/** Holds the model calls of `model` until the returned function is called. */
function holdModel(h: Harness, model: string): () => void {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const previous = h.router.generate;
  h.router.generate = (async (request: Parameters<typeof previous>[0], options: Parameters<typeof previous>[1]) => {
    if ((request as { messages?: Array<{ content?: unknown }> }).messages?.[0]?.content === model) await gate;
    return previous.call(h.router, request, options);
  }) as typeof previous;
  return open;
}

// About 8 MB: more than the loopback socket buffers take while the client does not read.
const reply = 'word '.repeat(1_600_000).trim();

describe('serveGateway close(): an answer still being written to a slow client', () => {
  it('a large answer ended but still being written when close() starts is sent whole within the grace', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply })]);
    try {
      const c = rawConnection(served.url);
      // The client reads nothing for now (a slow client).
      c.socket.pause();
      const one = requestsTaken(served.server, 1);
      c.socket.write(chatRequest(secret, 'big'));
      await one;
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
      const closed = served.close(8000);
      // The client reads it now, well within the grace.
      await readUntil(c, () => firstBody(c.raw()) !== undefined);
      c.socket.destroy();
      await closed;
      expect({ received: c.raw().length > 1_000_000, whole: firstBody(c.raw()) !== undefined }).toEqual({ received: true, whole: true });
    } finally {
      await served.close(0);
      await h.close();
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
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
      // The big answer is ended and being written (its client reads nothing yet); now the small one finishes.
      openSmall();
      await vi.waitFor(() => expect(statusLines(y.raw())).toEqual(['HTTP/1.1 200']), { timeout: 10_000, interval: 20 });
      await readUntil(x, () => firstBody(x.raw()) !== undefined);
      x.socket.destroy();
      y.socket.destroy();
      await closed;
      expect({ whole: firstBody(x.raw()) !== undefined }).toEqual({ whole: true });
    } finally {
      openBig();
      openSmall();
      await served.close(0);
      await h.close();
    }
  }, 30_000);

  it('a model answer pipelined behind a large answer still being written when close() starts is sent', async () => {
    const { h, served, secret } = await servedWithKey([mockModel('big', { reply }), mockModel('fast')]);
    try {
      const c = rawConnection(served.url);
      c.socket.pause();
      const two = requestsTaken(served.server, 2);
      c.socket.write(chatRequest(secret, 'big') + chatRequest(secret, 'fast'));
      await two;
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success', 'success']), { timeout: 10_000, interval: 20 });
      const closed = served.close(8000);
      await readUntil(c, () => statusLines(c.raw()).length === 2 && /"object":"chat\.completion"[^]*"object":"chat\.completion"/.test(c.raw()));
      c.socket.destroy();
      await closed;
      expect({ received: c.raw().length, statuses: statusLines(c.raw()) }).toMatchObject({ statuses: ['HTTP/1.1 200', 'HTTP/1.1 200'] });
    } finally {
      await served.close(0);
      await h.close();
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
      const one = requestsTaken(served.server, 1);
      c.socket.write(chatRequest(secret, 'big'));
      await one;
      const closed = served.close(8000);
      // Answered after close() started, the last request on its connection: its headers say connection: close; its
      // client reads nothing yet, so most of it is still being written.
      openBig();
      await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(['success']), { timeout: 10_000, interval: 20 });
      const second = requestsTaken(served.server, 1);
      c.socket.write(chatRequest(secret, 'fast'));
      await second;
      await readUntil(c, () => false);
      await closed;
      expect({ head: /\r\nconnection: close\r\n/i.test(c.raw().slice(0, c.raw().indexOf('\r\n\r\n') + 2)), whole: firstBody(c.raw()) !== undefined, statuses: statusLines(c.raw()) }).toEqual({ head: true, whole: true, statuses: ['HTTP/1.1 200'] });
      expect({ calls, rows: await ledgerStatuses(h) }).toEqual({ calls: ['big'], rows: ['success'] });
    } finally {
      openBig();
      await served.close(0);
      await h.close();
    }
  }, 30_000);
});
