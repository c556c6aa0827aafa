import { request as httpRequest, type Agent } from 'node:http';

/** The benchmarks' chat request body (the mock upstream answers 16 words either way). */
export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) });
}

export interface StreamTiming {
  /** First byte of the response body, ms after the request started (NaN when none came). */
  ttfbMs: number;
  totalMs: number;
  /** Status 200 and the stream ended with `[DONE]`. */
  ok: boolean;
}

/** One streamed chat completion to `url`, timed with hrtime from the request to its first and last body byte. */
export function streamOnce(url: string, headers: Record<string, string>, model: string, agent: Agent): Promise<StreamTiming> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    const payload = chatBody(model, true);
    const u = new URL(`${url}/v1/chat/completions`);
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } },
      (res) => {
        let ttfb = NaN;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (Number.isNaN(ttfb)) ttfb = ms();
          text += d;
        });
        res.on('end', () => resolve({ ttfbMs: ttfb, totalMs: ms(), ok: res.statusCode === 200 && text.includes('[DONE]') }));
        res.on('error', () => resolve({ ttfbMs: ttfb, totalMs: ms(), ok: false }));
      },
    );
    req.on('error', () => resolve({ ttfbMs: NaN, totalMs: ms(), ok: false }));
    req.end(payload);
  });
}
