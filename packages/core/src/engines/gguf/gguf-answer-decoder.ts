import type * as NodeLlamaCpp from 'node-llama-cpp';

type Token = NodeLlamaCpp.Token;

/** How many tokens before the pending ones decode with them (node-llama-cpp looks at the last 3 too). */
export const DECODE_CONTEXT = 3;

/** A character is at most 4 UTF-8 bytes: tokens still ending in U+FFFD after 4 are invalid bytes, sent as they are. */
const MAX_PENDING = 4;

/**
 * Decodes an answer's tokens one at a time, each after the tokens before it, the prompt's last ones first: so the
 * answer's first SentencePiece token keeps its leading space ("\u2581time" after "Once upon a" is " time"), as it has
 * in the whole text. A token whose text ends inside a character split across tokens adds '' and the token that
 * completes the character adds all of it; a character the answer ends inside is never sent (a broken character is
 * not text). Linear: each token is decoded once, with at most `DECODE_CONTEXT` tokens before it.
 */
export class AnswerDecoder {
  private readonly lead: Token[];
  private context: Token[];
  private pending: Token[] = [];

  constructor(
    private readonly model: NodeLlamaCpp.LlamaModel,
    promptTokens: readonly Token[],
  ) {
    this.lead = promptTokens.slice(-DECODE_CONTEXT);
    this.context = this.lead;
  }

  /** The text of `tokens` as a whole answer (decoded at once, after the prompt's end). */
  whole(tokens: readonly Token[]): string {
    return this.model.detokenize(tokens, false, this.lead);
  }

  /** The text `token` adds to the answer ('' while it ends inside a split character). */
  push(token: Token): string {
    this.pending.push(token);
    const text = this.model.detokenize(this.pending, false, this.context);
    if (text.endsWith('\uFFFD') && this.pending.length < MAX_PENDING) return '';
    this.context = [...this.context, ...this.pending].slice(-DECODE_CONTEXT);
    this.pending = [];
    return text;
  }
}
