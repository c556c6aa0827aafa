/**
 * Streams text while watching for stop sequences: it holds back a tail that could still become a stop
 * sequence, and on a match releases only the text before it. Used by the local engines (onnx, gguf), which match
 * the request's `stop` on the decoded answer as an OpenAI-compatible server does.
 */
export class StopSequenceFilter {
  private pending = '';
  private readonly longest: number;
  stopped = false;
  /** The stop sequence that matched (the earliest in the text; at one place, the first in `stops`), once `stopped`. */
  matched: string | undefined;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Adds generated text; returns the text that is safe to emit now. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) {
        cut = at;
        this.matched = stop;
      }
    }
    if (cut !== -1) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    const keep = this.holdBack();
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return out;
  }

  /** The held-back text, once generation has ended without a stop. */
  flush(): string {
    const out = this.stopped ? '' : this.pending;
    this.pending = '';
    return out;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop sequence. */
  private holdBack(): number {
    const max = Math.min(this.longest - 1, this.pending.length);
    for (let k = max; k > 0; k--) {
      const tail = this.pending.slice(this.pending.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) return k;
    }
    return 0;
  }
}
