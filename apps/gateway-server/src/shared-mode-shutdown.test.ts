/**
 * A rolling restart in shared mode: process A gets SIGTERM while a tenant's stream runs longer than the server's
 * shutdown grace (10 s by default, `LLMRR_SHUTDOWN_GRACE_MS`); A cuts it with its error event, settles it (ledger row in PostgreSQL,
 * concurrency lease in Redis given back) and exits. The tenant (maxConcurrency 1) then calls process B at once.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayRequest as request, sharedServices, startSharedPair, stopSharedPair, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-mode-admin-key-0123456789';
const TEST = 'shared-mode shutdown test';
const services = sharedServices(TEST);
const { skip } = services;

const CONFIG = {
  version: 2,
  models: [
    { name: 'mock', engine: 'mock', price: { input: 0, output: 1 }, capabilities: ['chat', 'streaming'], options: {} },
    // 12 words, 1.5 s apart: about 16 s, past the server's default 10 s shutdown grace.
    { name: 'long', engine: 'mock', price: { input: 0, output: 1 }, capabilities: ['chat', 'streaming'], options: { reply: 'one two three four five six seven eight nine ten eleven twelve', chunkDelayMs: 1_500 } },
  ],
  routing: { strategy: 'priority', retries: { max: 0 } },
};

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: SIGTERM cutting a stream', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `gw_${id}`, prefix: `gw${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let a: Gateway | undefined;
  let b: Gateway | undefined;

  const admin = async <T = Record<string, unknown>>(g: Gateway, method: string, path: string, body?: unknown): Promise<T> => {
    const res = await request(g, method, path, body, { authorization: `Bearer ${ADMIN}` });
    const text = await res.text();
    expect(res.status, `${g.name} ${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as T;
  };

  beforeAll(async () => {
    ({ dir, a, b } = await startSharedPair(CONFIG, services, run));
  }, 180_000);

  afterAll(() => stopSharedPair(TEST, services, run, { dir, a, b }), 60_000);

  it('the stream cut at shutdown leaves a ledger row and gives its concurrency place back (B serves the tenant at once)', async () => {
    await admin(a!, 'POST', '/admin/tenants', { id: 'solo', name: 'Solo', limits: { maxConcurrency: 1 } });
    const { secret } = await admin<{ secret: string }>(a!, 'POST', '/admin/tenants/solo/keys', { name: 'k' });
    const streamed = new Promise<{ status: number; text: string }>((resolve) => {
      const u = new URL(`${a!.url}/v1/chat/completions`);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        const done = () => resolve({ status: res.statusCode!, text });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      });
      req.on('error', () => resolve({ status: 0, text: '' }));
      req.end(JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const exited = new Promise<number | null>((r) => a!.child.once('exit', (code) => r(code)));
    a!.child.kill('SIGTERM');
    const cut = await streamed;
    expect(cut.status).toBe(200);
    expect(cut.text).not.toContain('[DONE]');
    // Ended with the chat error event, not just closed.
    const last = cut.text.trimEnd().split('\n\n').at(-1)!;
    expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({ error: { code: 'shutting_down' } });
    expect(await exited).toBe(0);

    // What B sees once A is gone: the cut stream's ledger row, and the tenant's one concurrency place free again
    // (the cut stream held it; a lease left behind blocks the tenant until it expires, 10 minutes after A died).
    const usage = await admin<{ requests?: number }>(b!, 'GET', '/admin/usage?tenant=solo');
    const limits = await admin<{ current?: { remainingConcurrency?: number } }>(b!, 'GET', '/admin/tenants/solo/limits');
    const onB = await request(b!, 'POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'after the restart' }] }, { authorization: `Bearer ${secret}` });
    const seen = { ledgerRows: usage.requests, remainingConcurrency: limits.current?.remainingConcurrency, nextCallOnB: onB.status };
    expect(seen, `${await onB.text()}\n${a!.output()}`).toEqual({ ledgerRows: 1, remainingConcurrency: 1, nextCallOnB: 200 });
  }, 120_000);
});
