import { startRawUpstream, type RawUpstream } from './raw-upstream.js';

/**
 * An OpenAI-wire upstream (`startRawUpstream`) whose chat answers wait until the test lets them go: a call stays in
 * flight (admitted, its concurrency place and budget reservation held) for as long as the test needs. Each answer
 * reports 1 prompt and 1 completion token.
 */
export interface HeldUpstream {
  /** For an engine's `baseURL` (`.../v1`). */
  baseURL: string;
  /** Requests received so far (held or answered). */
  received(): number;
  /** Answers every held request, and those to come until `hold()`. */
  letGo(): void;
  /** Holds the requests to come. */
  hold(): void;
  raw: RawUpstream;
  close(): Promise<void>;
}

export async function startHeldUpstream(): Promise<HeldUpstream> {
  let gate = closedGate();
  let received = 0;
  const raw = await startRawUpstream((_req, res) => {
    received++;
    void gate.promise.then(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `chatcmpl-held-${received}`,
          object: 'chat.completion',
          created: 1,
          model: 'gpt-test',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  return {
    baseURL: `${raw.url}/v1`,
    received: () => received,
    letGo: () => gate.open(),
    hold: () => {
      gate = closedGate();
    },
    raw,
    close: () => {
      gate.open();
      return raw.close();
    },
  };
}

function closedGate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
