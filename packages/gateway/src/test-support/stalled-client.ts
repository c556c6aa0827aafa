import { connect, type Socket } from 'node:net';
import type { SdkGateway } from './served-gateway.js';

/** A raw client that sent one request and reads nothing (its socket paused) until `socket.resume()`. */
export interface StalledClient {
  socket: Socket;
  /** The gateway's side of the connection. */
  server: Socket;
  /** What the client has read so far. */
  received: () => Buffer;
}

/**
 * POSTs `body` (JSON) to `path` of a served gateway on a new connection that reads nothing (paused; with `origin`, the
 * request carries it: a browser's, served through `gateway.fetch` when CORS is on).
 */
export async function stalledPost(gw: SdkGateway, body: object, options: { path?: string; origin?: string } = {}): Promise<StalledClient> {
  const u = new URL(gw.url);
  const server = new Promise<Socket>((resolve) => gw.served.server.once('connection', resolve));
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.pause();
  const json = JSON.stringify(body);
  socket.write(
    `POST ${options.path ?? '/v1/chat/completions'} HTTP/1.1\r\nhost: gateway\r\n${options.origin ? `origin: ${options.origin}\r\n` : ''}authorization: Bearer ${gw.secret}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
  return { socket, server: await server, received: () => Buffer.concat(chunks) };
}

/**
 * A client that leaves a streamed chat completion (the official openai client, its request aborted) once it has read
 * `texts` content chunks; the request id of the call.
 */
export async function leaveStreamAfter(gw: SdkGateway, model: string, texts = 3): Promise<string> {
  const controller = new AbortController();
  const { data: stream, response } = await gw
    .openai()
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'go' }], stream: true }, { signal: controller.signal })
    .withResponse();
  let read = 0;
  try {
    for await (const c of stream) {
      if (c.choices[0]?.delta.content) read++;
      if (read === texts) controller.abort();
    }
  } catch {
    // (The client's abort ends its iteration: with an error or without one, as the client decides.)
  }
  if (read !== texts) throw new Error(`the stream ended after ${read} content chunks, before the client left at ${texts}`);
  return response.headers.get('x-request-id')!;
}
