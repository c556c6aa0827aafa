import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { answerClientError, clientErrorOf, headOf } from './client-error.js';
import { arrived } from './node-incoming.js';

/** A socket double that records what is written and whether it was destroyed. */
function fakeSocket(writable = true) {
  const written: string[] = [];
  const socket = new Duplex({ read() {}, write(chunk: Buffer, _enc, done) {
    written.push(chunk.toString('latin1'));
    done();
  } });
  if (!writable) socket.end();
  return { socket, written };
}

describe('clientErrorOf', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'body'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, null],
    ['HPE_INVALID_METHOD', 400, 'method'],
    ['HPE_INVALID_CONTENT_LENGTH', 400, 'content-length'],
    ['HPE_SOMETHING_NEW', 400, null],
  ])('%s -> %i (param %s)', (code, status, param) => {
    const e = clientErrorOf(Object.assign(new Error('x'), { code, reason: 'Some reason' }));
    expect(e.statusCode).toBe(status);
    expect(e.param ?? null).toBe(param);
    expect(e.message).not.toMatch(/\n\s+at /);
  });

  // (What node:http's parser reports, as a server sees it: `src/node/edge-requests.test.ts`, "the request line".)
  describe('HPE_HEADER_OVERFLOW: a URL too long (414) or headers too large (431)', () => {
    const overflow = (packet: string, failedAt: number) => clientErrorOf(Object.assign(new Error('x'), { code: 'HPE_HEADER_OVERFLOW', reason: 'Header overflow', rawPacket: Buffer.from(packet, 'latin1'), bytesParsed: failedAt }));
    const longUrl = `/v1/models?q=${'a'.repeat(17_000)}`;
    it('the parser failed where the request target ends (its head in one packet, or its start in an earlier one): 414 naming url', () => {
      const whole = `GET ${longUrl} HTTP/1.1\r\nhost: x\r\n\r\n`;
      const rest = whole.slice(1000);
      for (const [packet, at] of [[whole, whole.indexOf(' HTTP/1.1')], [rest, rest.indexOf(' HTTP/1.1')]] as const) {
        const e = overflow(packet, at);
        expect({ status: e.statusCode, param: e.param, message: e.message }).toEqual({ status: 414, param: 'url', message: 'The request URL is too long' });
      }
    });
    it('a request line that is the larger part of the head is the 414; a large header the 431, also pipelined behind a request', () => {
      const line = `GET /v1/models?q=${'a'.repeat(16_000)} HTTP/1.1\r\n`;
      const cookie = `GET /v1/models HTTP/1.1\r\nhost: x\r\ncookie: ${'a'.repeat(17_000)}\r\n\r\n`;
      const before = 'GET /health HTTP/1.1\r\nhost: x\r\n\r\n';
      const cases = [
        [`${line}host: x\r\ncookie: ${'c'.repeat(1000)}\r\n\r\n`, 414],
        [cookie, 431],
        [before + cookie, 431],
        [`${line}host: x\r\ncookie: ${'c'.repeat(17_000)}\r\n\r\n`, 431],
        // The head's start in an earlier packet and the target not ended in this one: not told.
        ['a'.repeat(8000), 431],
      ] as const;
      for (const [packet, status] of cases) expect({ head: packet.slice(0, 40), status: overflow(packet, packet.length - 4).statusCode }).toEqual({ head: packet.slice(0, 40), status });
    });
  });
});

describe('answerClientError', () => {
  it('writes one error answer with the request id and ends the connection', async () => {
    const { socket, written } = fakeSocket();
    answerClientError(() => 'req_1')(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD', reason: 'Invalid method encountered' }), socket);
    await new Promise((r) => setImmediate(r));
    const text = written.join('');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toContain('x-request-id: req_1\r\n');
    expect(text).toContain('connection: close\r\n');
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: Record<string, unknown> };
    expect(body.error).toEqual({ type: 'invalid_request_error', code: 'invalid_request', message: 'Malformed HTTP request: Invalid method encountered', param: 'method', request_id: 'req_1' });
    expect(socket.writableEnded).toBe(true);
  });

  it('writes nothing on a reset or closed connection, or when an answer already started on it', () => {
    const reset = fakeSocket();
    answerClientError(() => 'req_2')(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), reset.socket);
    expect([reset.written, reset.socket.destroyed]).toEqual([[], true]);
    const closed = fakeSocket(false);
    answerClientError(() => 'req_3')(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), closed.socket);
    expect(closed.written).toEqual([]);
    // (The in-flight request's own body broke: a chunk size that is not hex.)
    const busy = fakeSocket();
    Object.assign(busy.socket, { _httpMessage: { headersSent: true, req: { complete: false } } });
    answerClientError(() => 'req_4')(Object.assign(new Error('bad'), { code: 'HPE_INVALID_CHUNK_SIZE' }), busy.socket);
    expect([busy.written, busy.socket.destroyed]).toEqual([[], true]);
  });

  it('bytes that fail after the request in flight was read whole are a later request: answered once that answer is sent, in that request\'s shape', async () => {
    const { socket, written } = fakeSocket();
    const inFlight = Object.assign(new EventEmitter(), { headersSent: false, shouldKeepAlive: true, req: { complete: true } });
    Object.assign(socket, { _httpMessage: inFlight });
    const packet = Buffer.from('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}POST /v1/messages HTTP/1.1\r\nhost: x\r\nbad header: 1\r\n\r\n');
    const err = Object.assign(new Error('bad'), { code: 'HPE_INVALID_HEADER_TOKEN', reason: 'Invalid header token', rawPacket: packet, bytesParsed: packet.indexOf('bad header') + 3 });
    const answer = answerClientError(() => 'req_5');
    answer(err, socket);
    // The parser stays failed: more bytes report the error again, and nothing more is done.
    answer(err, socket);
    await new Promise((r) => setImmediate(r));
    expect([written, socket.writableEnded, inFlight.shouldKeepAlive]).toEqual([[], false, true]);
    inFlight.emit('finish');
    await new Promise((r) => setImmediate(r));
    const text = written.join('');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toContain('connection: close\r\n');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ type: 'error', error: { code: 'invalid_request', param: 'headers', request_id: 'req_5' } });
    expect(socket.writableEnded).toBe(true);
  });

  it('the body of a request pipelined behind the answer in flight broke: that answer closes the connection, nothing is written for it', () => {
    const { socket, written } = fakeSocket();
    const inFlight = Object.assign(new EventEmitter(), { headersSent: false, shouldKeepAlive: true, req: { complete: true } });
    const later = { headersSent: false, req: { complete: false } };
    Object.assign(socket, { _httpMessage: inFlight });
    // (As serveGateway tells it: the latest request to arrive on the connection.)
    arrived({ socket: socket as unknown as Socket } as IncomingMessage, later as unknown as ServerResponse);
    answerClientError(() => 'req_6')(Object.assign(new Error('bad'), { code: 'HPE_INVALID_CHUNK_SIZE' }), socket);
    expect([written, socket.destroyed, inFlight.shouldKeepAlive]).toEqual([[], false, false]);
  });
});

describe('headOf (the head of a request node:http could not parse, from the bytes it was parsing)', () => {
  const bytes = (text: string) => Buffer.from(text, 'latin1');

  it('reads the path (without its query) and the one Origin, header names in any case, and anthropic-version', () => {
    expect(headOf(bytes('POST /v1/messages?beta=true HTTP/1.1\r\nHost: gw\r\nORIGIN:  https://app.example.com \r\nAnthropic-Version: 2023-06-01\r\nbad header: x\r\n\r\n'))).toEqual({
      path: '/v1/messages',
      origin: 'https://app.example.com',
      anthropic: true,
    });
  });

  it('knows no Origin when there are two, and nothing when the bytes do not start with the request line (a head in several packets)', () => {
    expect(headOf(bytes('GET /v1/models HTTP/1.1\r\norigin: https://a.example\r\norigin: https://b.example\r\n\r\n'))?.origin).toBeUndefined();
    expect(headOf(bytes('origin: https://app.example.com\r\nx-big: aaaa\r\n'))).toBeUndefined();
    expect(headOf(undefined)).toBeUndefined();
  });

  it('reads only the head: an origin line in the body does not count', () => {
    expect(headOf(bytes('POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n\r\n\r\norigin: https://app.example.com\r\n'))?.origin).toBeUndefined();
  });
});
