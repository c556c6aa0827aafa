/**
 * The router over an openai-compatible deployment whose 200 to a stream request is not a plain event stream: a real
 * event stream labelled `application/json` (Foundry Local answers `stream: true` so, microsoft/foundry-dev-tools#195)
 * streams as it arrives, so its first token counts under firstTokenMs; a whole JSON answer (a server ignoring
 * `stream: true`) is marked as responded before it is read, so a timeout while it is read is `afterResponse`: not
 * sent again (it may be billed), as for generate.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLoopbackHttp, type LoopbackHttp } from '../test/loopback-http.test-helpers.js';
import { usePrimaryAndBackup } from '../test/wire-router.test-helpers.js';
import type { RouterStreamPart } from './types.js';

const wire = usePrimaryAndBackup();

/** A router over `primaryURL` (the primary deployment, under `firstTokenMs`) and the backup, without retries. */
function router(primaryURL: string, firstTokenMs: number) {
  return wire.router({ retries: { max: 0 } }, {}, { baseURL: primaryURL, timeouts: { firstTokenMs } }).router;
}

describe('an event stream labelled application/json under firstTokenMs', () => {
  it('its first token counts as the first token (no failover while it streams)', async () => {
    wire.primary.setScript({
      rawSSE:
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":" from primary"}}]}\n\n' +
        'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      // A long answer: the server is still generating after its first two tokens.
      hangAfterChunks: 2,
    });
    const parts: RouterStreamPart[] = [];
    // Leaving the loop closes the stream (the primary hangs after its first tokens).
    for await (const part of router(wire.primary.baseURL, 3000).stream('x')) {
      parts.push(part);
      if (part.type === 'text-delta' || part.type === 'error' || part.type === 'finish') break;
    }
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'primary' });
    expect(parts.find((p) => p.type === 'text-delta')).toMatchObject({ delta: 'Hi' });
    expect(wire.backup.requests).toHaveLength(0);
  });
});

describe('a timeout while a whole JSON answer is read', () => {
  let slow: LoopbackHttp | undefined;
  let slowURL: string;
  const open = new Set<ServerResponse>();
  let hits = 0;
  const completion = JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', content: 'from primary' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  });

  beforeEach(async () => {
    hits = 0;
    // The 200 and the first bytes of the completion at once; the rest never comes (a slow proxy).
    slow = await startLoopbackHttp((req, res) => {
      hits++;
      req.resume();
      open.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(completion.slice(0, 40));
    });
    slowURL = `${slow.url}/v1`;
  });

  afterEach(async () => {
    for (const res of open) res.destroy();
    open.clear();
    await slow?.close();
    slow = undefined;
  });

  it('generate: afterResponse, not sent again', async () => {
    await expect(router(slowURL, 500).generate('x')).rejects.toMatchObject({ code: 'timeout' });
    expect(wire.backup.requests).toHaveLength(0);
    expect(hits).toBe(1);
  });

  it('stream: the same answer read whole is not sent again either', async () => {
    const parts: RouterStreamPart[] = [];
    for await (const part of router(slowURL, 500).stream('x')) parts.push(part);
    expect(wire.backup.requests).toHaveLength(0);
    expect(hits).toBe(1);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'timeout', afterResponse: true } });
  });
});
