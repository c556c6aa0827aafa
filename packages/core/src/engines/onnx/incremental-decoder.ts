/**
 * Turns a growing list of token ids into text deltas. It re-decodes the generated ids each step and
 * emits what was added, holding back while the text ends in U+FFFD (a UTF-8 character split across
 * byte-level tokens) or no longer extends what was already emitted.
 */
export class IncrementalDecoder {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly decode: (ids: readonly number[]) => string) {}

  /** Adds one token; returns the new text (possibly empty). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids);
    if (text.endsWith('\uFFFD') || !text.startsWith(this.emitted)) return '';
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    return delta;
  }

  /** Whatever remains at the end (a dangling partial character stays as U+FFFD, as the tokenizer decodes it). */
  flush(): string {
    const text = this.decode(this.ids);
    if (!text.startsWith(this.emitted)) return '';
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    return delta;
  }
}
