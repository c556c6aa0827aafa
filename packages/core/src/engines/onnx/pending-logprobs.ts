import type { TokenLogprob } from '../../spec/logprobs.js';

/**
 * Token log probabilities waiting for the text they make up to be sent. A token's `token` is the text it added to
 * the decoded answer (the `IncrementalDecoder` delta: a character split across tokens goes to the token that
 * completes it); the stop filter holds back text that could begin a stop sequence and never sends a stop that
 * matched. So a token is released with the text-delta that sends the last of its text, and at the answer's end the
 * tokens whose text was never sent (a matched stop sequence) are dropped: the released tokens joined are the text sent.
 */
export class PendingLogprobs {
  private readonly queue: TokenLogprob[] = [];
  /** Offset in the answer where the first queued token's text starts. */
  private start = 0;
  /** Characters of the answer sent. */
  private sent = 0;

  add(entry: TokenLogprob): void {
    this.queue.push(entry);
  }

  /** Text the decoder gave only at the end (a dangling split character) belongs to the last token. */
  appendToLast(text: string): void {
    const last = this.queue.at(-1);
    if (last) last.token += text;
  }

  /** `chars` more characters of the answer were sent: the tokens whose text is now all sent, in order. */
  release(chars: number): TokenLogprob[] {
    this.sent += chars;
    const out: TokenLogprob[] = [];
    while (this.queue.length > 0 && this.start + this.queue[0]!.token.length <= this.sent) {
      const entry = this.queue.shift()!;
      this.start += entry.token.length;
      out.push(entry);
    }
    return out;
  }

  /**
   * The answer ended: the tokens with some of their text sent (the last one's text cut to what was sent, when a stop
   * sequence began inside it); the others are dropped.
   */
  end(): TokenLogprob[] {
    const out: TokenLogprob[] = [];
    for (const entry of this.queue) {
      if (this.start >= this.sent) break;
      entry.token = entry.token.slice(0, this.sent - this.start);
      this.start += entry.token.length;
      out.push(entry);
    }
    this.queue.length = 0;
    return out;
  }
}
