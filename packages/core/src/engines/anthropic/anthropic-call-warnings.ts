import type { CallWarning } from '../../spec/warnings.js';
import type { CacheFitListener, CacheFitNote } from './anthropic-cache-control.js';

/**
 * The warnings of one request being mapped to an Anthropic body (see `CallWarning`), and where each
 * `cache_control` mark of the body came from (the `GenerateRequest` field of the mark), so that a mark the
 * fitting drops or changes is reported by its field. Nothing is allocated until there is something to say or a
 * mark to remember: an ordinary unmarked request costs one small object.
 */
export class AnthropicCallWarnings implements CacheFitListener {
  private list: CallWarning[] | undefined;
  private fields: Map<object, string> | undefined;
  /** The request field of the body's top-level (automatic) breakpoint. */
  automaticField = 'cacheControl';

  add(code: string, field: string | undefined, message: string): void {
    const warning: CallWarning = field === undefined ? { code, message } : { code, field, message };
    (this.list ??= []).push(warning);
  }

  push(warning: CallWarning): void {
    (this.list ??= []).push(warning);
  }

  /** Remembers that `block`'s mark came from the request's `field` (e.g. `messages.2.content.0.cacheControl`); gives the block back. */
  marked<B extends object>(block: B, field: string): B {
    (this.fields ??= new Map()).set(block, field);
    return block;
  }

  /** The request field the block's mark came from, when it was remembered. */
  fieldOf(block: object): string | undefined {
    return this.fields?.get(block);
  }

  /** A mark the cache-breakpoint fitting dropped or changed, named by its request field. */
  fitted(note: CacheFitNote): void {
    const field = note.block === null ? this.automaticField : this.fieldOf(note.block);
    if (note.kind === 'dropped') this.add('cache_control_dropped', field, `The cache breakpoint was not sent: ${note.reason}.`);
    else this.add('cache_control_changed', field, `The cache breakpoint was sent with another TTL: ${note.reason}.`);
  }

  /** The warnings so far, or undefined when there are none. */
  get warnings(): CallWarning[] | undefined {
    return this.list;
  }
}
