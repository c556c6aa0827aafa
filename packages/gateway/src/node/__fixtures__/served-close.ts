/**
 * Shared set-up of the serveGateway close() tests over raw keep-alive connections (serve-gateway.close-*.test.ts):
 * a served gateway with tenant `acme` and one key, raw chat requests, gates holding model calls or ledger lookups,
 * and readers of what a raw connection received.
 */
import { expect, vi } from 'vitest';
import type { GatewayOptions } from '../../types.js';
import { createHarness, type Harness, type ModelInput } from '../../test-support/harness.js';
import { requestsTaken, type RawConnection } from '../../test-support/raw-http.js';
import { serveGateway, type ServedGateway } from '../serve-gateway.js';

export interface ServedKey {
  h: Harness;
  served: ServedGateway;
  secret: string;
}

export interface ServedKeyOptions {
  /** Options for the gateway (e.g. CORS). */
  gateway?: Partial<Omit<GatewayOptions, 'router' | 'stores'>>;
  /** A budget for tenant `acme`. */
  budget?: { amountUsd: number; period: 'total' };
}

/**
 * A gateway (memory stores, tenant `acme` with one key) served with a cut bound far longer than any close() test
 * (`cutSettleMs`): a close() that waits for it is told from one that does not under any load.
 */
export async function servedWithKey(models: ModelInput[], options: ServedKeyOptions = {}): Promise<ServedKey> {
  const h = await createHarness({ stores: 'memory', models, ...(options.gateway ? { gateway: options.gateway } : {}) });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 8 }, ...(options.budget ? { budget: options.budget } : {}) });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
  return { h, served: await serveGateway(h.gateway, { port: 0, cutSettleMs: 20_000 }), secret };
}

/** A chat completion request as raw HTTP/1.1 text; its one user message is the model's name (see holdModel). */
export function chatRequest(secret: string, model: string, headers: Record<string, string> = {}): string {
  const json = JSON.stringify({ model, messages: [{ role: 'user', content: model }] });
  const lines = Object.entries({ host: 'gw', authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `POST /v1/chat/completions HTTP/1.1\r\n${lines}\r\n${json}`;
}

/** Holds the model calls of `model` (every model call when none is given) until the returned function is called. */
export function holdModel(h: Harness, model?: string): () => void {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const previous = h.router.generate;
  h.router.generate = (async (request: Parameters<typeof previous>[0], options: Parameters<typeof previous>[1]) => {
    if (model === undefined || (request as { messages?: Array<{ content?: unknown }> }).messages?.[0]?.content === model) await gate;
    return previous.call(h.router, request, options);
  }) as typeof previous;
  return open;
}

/** The status lines of every answer in `raw`, in order. */
export const statusLines = (raw: string) => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).map((s) => s.trim());

/** The statuses of tenant `acme`'s ledger rows (at most 5). */
export async function ledgerStatuses(h: Harness): Promise<string[]> {
  return (await h.stores!.ledger.query({ tenantId: 'acme', limit: 5 })).map((r) => r.status);
}

/** The body (content-length or chunked) of the answer whose status line starts at `at` in `raw` once whole, else undefined. */
export function answerBody(raw: string, at = 0): string | undefined {
  const end = raw.indexOf('\r\n\r\n', at);
  if (at < 0 || end < 0) return undefined;
  const rest = raw.slice(end + 4);
  const length = /\r\ncontent-length: (\d+)/i.exec(raw.slice(at, end));
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

/** Reads what the server sends until the connection closes or `done` holds (at most `timeoutMs`). */
export async function readUntil(c: RawConnection, done: () => boolean, { timeoutMs = 10_000, interval = 20 } = {}): Promise<void> {
  c.socket.resume();
  await Promise.race([c.closed, vi.waitFor(() => expect(done()).toBe(true), { timeout: timeoutMs, interval }).catch(() => {})]);
}

/** Writes `text` on `c` and waits until the server has taken `n` more requests. */
export async function writeTaken(served: ServedGateway, c: RawConnection, text: string, n = 1): Promise<void> {
  const taken = requestsTaken(served.server, n);
  c.socket.write(text);
  await taken;
}

/** Waits (at most 10 s) until tenant `acme`'s ledger rows have these statuses. */
export async function waitForLedger(h: Harness, statuses: string[]): Promise<void> {
  await vi.waitFor(async () => expect(await ledgerStatuses(h)).toEqual(statuses), { timeout: 10_000, interval: 20 });
}

/** Opens every gate given, then closes the served gateway at once and its harness (a test's `finally`). */
export async function closeServed(h: Harness, served: ServedGateway, ...gates: Array<() => void>): Promise<void> {
  for (const open of gates) open();
  await served.close(0);
  await h.close();
}
