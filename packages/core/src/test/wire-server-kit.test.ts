import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonObject, splitEven, WireServerKit, type TrackedRequest, type WireBody, type WireHandler } from './wire-server-kit.js';

let kit: WireServerKit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

async function start(handler: WireHandler): Promise<WireServerKit> {
  kit = new WireServerKit((res, e) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`failed: ${e instanceof Error ? e.message : String(e)}`);
  });
  await kit.listen(handler);
  return kit;
}

describe('WireServerKit', () => {
  it('listens on 127.0.0.1, reads and parses bodies, answers handler failures with `fail`', async () => {
    const bodies: WireBody[] = [];
    const k = await start((req, res, body) => {
      bodies.push(body);
      if (req.url === '/boom') throw new Error('handler bug');
      res.end('ok');
    });
    expect(k.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await fetch(`${k.url}/a`, { method: 'POST', body: '{"x":1}' });
    await fetch(`${k.url}/a`, { method: 'POST', body: 'not json' });
    const boom = await fetch(`${k.url}/boom`, { method: 'POST', body: '[1]' });
    expect([boom.status, await boom.text()]).toEqual([500, 'failed: handler bug']);
    expect(bodies).toEqual([
      { rawBody: '{"x":1}', json: { x: 1 } },
      { rawBody: 'not json', json: undefined },
      { rawBody: '[1]', json: [1] },
    ]);
    expect(k.connectionsOpened).toBeGreaterThanOrEqual(1);
  });

  it('streams frames as scripted: an in-stream error frame ends it; a cut past the last frame still cuts', async () => {
    const records: TrackedRequest[] = [];
    const k = await start((req, res, body) => {
      const record = k.track(req, res, body);
      records.push(record);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frames = ['a\n', 'b\n', 'c\n'];
      if (req.url === '/error') return k.streamReply(res, record, { streamError: { afterEvents: 2 } }, frames, 'error\n');
      return k.streamReply(res, record, { cutAfterEvents: 3 }, frames, undefined);
    });
    expect(await (await fetch(`${k.url}/error`)).text()).toBe('a\nb\nerror\n');
    const cut = await fetch(`${k.url}/cut`);
    await expect(cut.text()).rejects.toThrow();
    await records[1]!.done;
    expect(records.map((r) => [r.path, r.eventsSent, r.clientClosed])).toEqual([
      ['/error', 3, false],
      ['/cut', 3, false], // cut by the server: not a client abort
    ]);
  });

  it('tracks a client that goes away, and close() ends hanging responses and pending waits', async () => {
    let record: TrackedRequest | undefined;
    let waited: Promise<boolean> | undefined;
    const k = await start((req, res, body) => {
      record = k.track(req, res, body);
      if (req.url !== '/hang') waited = k.wait(60_000, res as ServerResponse);
      k.notify();
    });
    const controller = new AbortController();
    const aborted = fetch(`${k.url}/hang`, { signal: controller.signal }).catch((e: unknown) => e);
    await k.waitUntil(() => record !== undefined, 5_000, () => 'no request');
    controller.abort();
    await aborted;
    await record!.done;
    expect(record!.clientClosed).toBe(true);

    record = undefined;
    const pending = fetch(`${k.url}/wait`).catch((e: unknown) => e);
    await k.waitUntil(() => waited !== undefined, 5_000, () => 'no wait');
    await k.close();
    kit = undefined;
    expect(await waited).toBe(false);
    expect(await pending).toBeInstanceOf(Error);
    expect(record!.clientClosed).toBe(false);
  });

  it('waitUntil rejects with the failure message after its timeout', async () => {
    const k = await start((_req, res) => {
      res.end();
    });
    await expect(k.waitUntil(() => false, 20, () => 'never happened')).rejects.toThrow('never happened');
  });
});

describe('wire helpers', () => {
  it('splitEven keeps code points whole; jsonObject takes objects only', () => {
    expect(splitEven('abcdef', 3)).toEqual(['ab', 'cd', 'ef']);
    expect(splitEven('😀😀😀', 2)).toEqual(['😀😀', '😀']);
    expect(splitEven('', 4)).toEqual(['']);
    expect(jsonObject({ a: 1 })).toEqual({ a: 1 });
    expect([jsonObject([1]), jsonObject(null), jsonObject('x')]).toEqual([undefined, undefined, undefined]);
  });
});
