/**
 * The benchmark's mock upstream: OpenAI chat completions over node:http, answering after a fixed 20 ms;
 * streamed answers send 16 content chunks 5 ms apart, then the finish and usage chunks and `[DONE]`.
 * Nothing is recorded per request, so it stays flat in memory under load. Prints `PORT <n>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const DELAY_MS = Number(process.env.UPSTREAM_DELAY_MS ?? 20);
const CHUNKS = Number(process.env.UPSTREAM_CHUNKS ?? 16);
const CHUNK_DELAY_MS = Number(process.env.UPSTREAM_CHUNK_DELAY_MS ?? 5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (raw += c));
  req.on('end', async () => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    let body: { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
      return;
    }
    const model = body.model ?? 'bench-model';
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS };
    await sleep(DELAY_MS);
    if (!body.stream) {
      const text = Array.from({ length: CHUNKS }, (_, i) => `word${i}`).join(' ');
      const json = JSON.stringify({
        id: 'chatcmpl-bench',
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null }],
        usage,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (let i = 0; i < CHUNKS; i++) {
      if (i > 0) await sleep(CHUNK_DELAY_MS);
      if (res.destroyed) return;
      res.write(chunk({ content: `${i === 0 ? '' : ' '}word${i}` }, null));
    }
    res.write(chunk({}, 'stop'));
    if (body.stream_options?.include_usage) {
      res.write(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`PORT ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
