import type { ServerResponse } from 'node:http';
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, rejection } from '../test/async.test-helpers.js';
import { startLoopbackHttp, type LoopbackHttp } from '../test/loopback-http.test-helpers.js';
import { followRedirects, NO_REDIRECT, sseEvents, type FetchFn } from './http.js';

const encoder = new TextEncoder();

/** A response whose body delivers exactly these byte chunks; `cancelled` resolves with the cancel reason. */
function chunkedResponse(chunks: Uint8Array[], { end = true } = {}) {
  let i = 0;
  let onCancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<unknown>((resolve) => (onCancel = resolve));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else if (end) controller.close();
      // else: leave the read pending, like a connection waiting for the next event
    },
    cancel: (reason) => onCancel(reason),
  });
  return { response: new Response(body), cancelled, pulled: () => i };
}

/** Splits bytes at the given offsets. */
function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const o of [...offsets, bytes.length]) {
    out.push(bytes.slice(start, o));
    start = o;
  }
  return out;
}

/** The implementation sseEvents replaced (TextDecoderStream + EventSourceParserStream), as the reference. */
async function referenceEvents(chunks: Uint8Array[]): Promise<EventSourceMessage[]> {
  const stream = chunkedResponse(chunks).response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  return collect(stream);
}

const plain = (events: EventSourceMessage[]) => events.map((e) => ({ id: e.id, event: e.event, data: e.data }));

describe('sseEvents', () => {
  it('yields events in order with id, event and multi-line data', async () => {
    const text = 'id: 1\nevent: message_start\ndata: {"a":1}\n\n: keep-alive comment\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n';
    const { response } = chunkedResponse([encoder.encode(text)]);
    expect(plain(await collect(sseEvents(response)))).toEqual([
      { id: '1', event: 'message_start', data: '{"a":1}' },
      { id: undefined, event: undefined, data: 'line one\nline two' },
      { id: undefined, event: undefined, data: '[DONE]' },
    ]);
  });

  it('decodes multi-byte UTF-8 characters split across chunks at every byte offset', async () => {
    const text = 'data: {"text":"café — 日本語 🦊"}\n\n';
    const bytes = encoder.encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const events = await collect(sseEvents(chunkedResponse(splitAt(bytes, [cut])).response));
      expect(events.map((e) => e.data)).toEqual(['{"text":"café — 日本語 🦊"}']);
    }
    // One byte per chunk: every character and every `data:` line is split.
    const oneByOne = splitAt(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
    expect((await collect(sseEvents(chunkedResponse(oneByOne).response))).map((e) => e.data)).toEqual(['{"text":"café — 日本語 🦊"}']);
  });

  it('joins data: lines split in the middle of the field name and of the value', async () => {
    const chunks = ['da', 'ta: {"par', 't":1}\n', '\ndat', 'a: two\n\n'].map((s) => encoder.encode(s));
    expect((await collect(sseEvents(chunkedResponse(chunks).response))).map((e) => e.data)).toEqual(['{"part":1}', 'two']);
  });

  it('handles CRLF and bare CR framing, also with \\r and \\n in different chunks', async () => {
    const crlf = 'event: a\r\ndata: one\r\n\r\ndata: two\r\n\r\n';
    expect(plain(await collect(sseEvents(chunkedResponse([encoder.encode(crlf)]).response)))).toEqual([
      { id: undefined, event: 'a', data: 'one' },
      { id: undefined, event: undefined, data: 'two' },
    ]);
    const bytes = encoder.encode(crlf);
    for (let cut = 1; cut < bytes.length; cut++) {
      const events = await collect(sseEvents(chunkedResponse(splitAt(bytes, [cut])).response));
      expect(events.map((e) => e.data), `cut at ${cut}`).toEqual(['one', 'two']);
    }
    const cr = 'data: one\r\rdata: two\r\r';
    expect((await collect(sseEvents(chunkedResponse([encoder.encode(cr)]).response))).map((e) => e.data)).toEqual(['one', 'two']);
  });

  it('ignores parse errors, retry fields and comments, and drops an event left without its blank line', async () => {
    const text = 'bogus: field\ndata: kept\nretry: soon\nretry: 1000\n\nnot a field at all\n\ndata: unfinished';
    expect((await collect(sseEvents(chunkedResponse([encoder.encode(text)]).response))).map((e) => e.data)).toEqual(['kept']);
  });

  it('matches the TextDecoderStream + EventSourceParserStream pipeline for random chunkings', async () => {
    const text =
      '\uFEFFid: 7\nevent: delta\ndata: {"t":"naïve 😀"}\r\n\r\n: ping\n\nretry: x\nunknown: y\ndata:no-space\ndata:  two spaces\n\n' +
      'data: ending\r\rid\nevent\ndata\n\ndata: 末尾\n\n';
    // Invalid UTF-8 in the middle becomes U+FFFD in both.
    const bytes = new Uint8Array([...encoder.encode(text), ...encoder.encode('data: bad '), 0xc3, 0x28, 0x0a, 0x0a]);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 60; round++) {
      const offsets = [...new Set(Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * (bytes.length - 1))))].sort(
        (a, b) => a - b,
      );
      const chunks = splitAt(bytes, offsets);
      const expected = await referenceEvents(chunks);
      expect(expected.length).toBeGreaterThan(3);
      expect(await collect(sseEvents(chunkedResponse(chunks).response)), `offsets ${offsets.join(',')}`).toEqual(expected);
    }
  });

  it('cancels the body when the consumer stops early', async () => {
    const { response, cancelled, pulled } = chunkedResponse(['data: 1\n\ndata: 2\n\n', 'data: 3\n\n'].map((s) => encoder.encode(s)), { end: false });
    for await (const event of sseEvents(response)) {
      expect(event.data).toBe('1');
      break;
    }
    await cancelled;
    expect(pulled()).toBeLessThanOrEqual(2);
    expect(response.body!.locked).toBe(false);
  });

  it('throws the abort error when the signal fires while waiting for the next chunk, and cancels the body', async () => {
    const { response, cancelled } = chunkedResponse([encoder.encode('data: first\n\n')], { end: false });
    const controller = new AbortController();
    const events = sseEvents(response, controller.signal);
    expect((await events.next()).value).toMatchObject({ data: 'first' });
    const waiting = events.next();
    controller.abort();
    const error = await rejection(waiting);
    expect(error.code).toBe('aborted');
    await cancelled;
    expect(response.body!.locked).toBe(false);
  });

  it('reports a timeout reason as a timeout, and a signal aborted before the first read without reading', async () => {
    const waitingOne = chunkedResponse([], { end: false });
    const controller = new AbortController();
    const events = sseEvents(waitingOne.response, controller.signal);
    const waiting = events.next();
    controller.abort(new DOMException('too slow', 'TimeoutError'));
    expect((await rejection(waiting)).code).toBe('timeout');

    const already = chunkedResponse([encoder.encode('data: never\n\n')]);
    const error = await rejection(sseEvents(already.response, AbortSignal.abort()).next());
    expect(error.code).toBe('aborted');
    await already.cancelled;
  });

  it('stops between events of one chunk when the signal fires', async () => {
    const { response } = chunkedResponse([encoder.encode('data: 1\n\ndata: 2\n\ndata: 3\n\n')]);
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of sseEvents(response, controller.signal)) {
          seen.push(event.data);
          controller.abort();
        }
      })(),
    );
    expect(error.code).toBe('aborted');
    expect(seen).toEqual(['1']);
  });

  it('rethrows a body error as it is, and rejects a response without a body', async () => {
    const failure = new TypeError('terminated');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: 1\n\n'));
      },
      pull(controller) {
        controller.error(failure);
      },
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of sseEvents(new Response(body))) seen.push(event.data);
      })(),
    ).rejects.toBe(failure);
    expect(seen).toEqual(['1']);
    expect((await rejection(sseEvents(new Response(null)).next())).code).toBe('invalid_response');
  });

  describe('over a real connection', () => {
    let server: LoopbackHttp | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    /** A server that sends `first` and then keeps the response open; `closed` resolves when the client goes away. */
    async function openStream(first: string) {
      let onClosed: () => void = () => {};
      const closed = new Promise<void>((resolve) => (onClosed = resolve));
      let res: ServerResponse | undefined;
      server = await startLoopbackHttp((_req, r) => {
        res = r;
        r.writeHead(200, { 'content-type': 'text/event-stream' });
        r.write(first);
        r.on('close', onClosed);
      });
      const url = `${server.url}/`;
      return { url, closed, send: (data: string | Uint8Array) => res?.write(data) };
    }

    it('closes the upstream socket when the consumer breaks early', async () => {
      const peer = await openStream('data: 1\n\n');
      const response = await fetch(peer.url);
      for await (const event of sseEvents(response)) {
        expect(event.data).toBe('1');
        break;
      }
      await peer.closed;
    });

    it('turns an abort of the fetch while waiting into the abort error and closes the socket', async () => {
      const peer = await openStream('data: 1\n\n');
      const controller = new AbortController();
      const response = await fetch(peer.url, { signal: controller.signal });
      const events = sseEvents(response, controller.signal);
      expect((await events.next()).value).toMatchObject({ data: '1' });
      const waiting = events.next();
      controller.abort();
      expect((await rejection(waiting)).code).toBe('aborted');
      await peer.closed;
    });

    it('streams events written one by one, split mid-line and mid-character', async () => {
      const peer = await openStream('data: {"t":"caf');
      const response = await fetch(peer.url);
      const events = sseEvents(response);
      const first = events.next();
      const bytes = encoder.encode('é"}\n\ndata: [DONE]\n\n');
      peer.send(bytes.slice(0, 1));
      peer.send(bytes.slice(1));
      expect((await first).value).toMatchObject({ data: '{"t":"café"}' });
      expect((await events.next()).value).toMatchObject({ data: '[DONE]' });
      await events.return(undefined);
      await peer.closed;
    });
  });
});

describe('followRedirects: a request URL with a user name and password', () => {
  /** Follows `location` from a request to `url`; what was fetched and the status of the answer returned. */
  async function follow(url: string, location: string) {
    const fetched: string[] = [];
    const fetchFn = (async (u: string | URL | Request) => {
      fetched.push(String(u));
      return new Response('ok', { status: 200 });
    }) as FetchFn;
    const first = new Response(null, { status: 308, headers: { location } });
    const answer = await followRedirects(fetchFn, url, { method: 'POST', body: '{}', redirect: NO_REDIRECT }, first);
    return { fetched, status: answer.status };
  }

  it("a relative Location is followed (the request's user info is not the Location's), to the address without them", async () => {
    expect(await follow('http://user:pw@example.test/v1/chat', '/v1/chat/')).toEqual({ fetched: ['http://example.test/v1/chat/'], status: 200 });
  });

  it('a Location that carries a user name or password itself is not followed', async () => {
    expect(await follow('http://user:pw@example.test/v1/chat', 'http://other:pw2@example.test/v1/chat/')).toEqual({ fetched: [], status: 308 });
    expect(await follow('http://example.test/v1/chat', '//u@example.test/v1/chat/')).toEqual({ fetched: [], status: 308 });
  });
});
