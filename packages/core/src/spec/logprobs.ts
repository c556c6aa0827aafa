/**
 * Log probabilities of the answer's tokens, as OpenAI returns them (`logprobs.content[]` on chat completions,
 * `logprobs` on a Responses `output_text` part) and Gemini (`logprobsResult`). Asked for with
 * `GenerateRequest.logprobs`; engines whose provider cannot give them say so with a `setting_not_sent`
 * warning (field `logprobs`) and return none.
 */

/** The most that may be asked for per position (OpenAI's and Gemini's limit). */
export const MAX_TOP_LOGPROBS = 20;

export interface LogprobsOptions {
  /**
   * How many of the most likely tokens to list at each position, 0 to `MAX_TOP_LOGPROBS` (an integer). 0 or
   * absent: only the chosen token's own log probability.
   */
  topLogprobs?: number;
}

/** One candidate token at a position. */
export interface TopLogprob {
  /** The token's text. */
  token: string;
  /** Natural log of its probability (0 or below; -9999 is OpenAI's "very unlikely"). */
  logprob: number;
  /** The token's UTF-8 bytes, when the provider gives them (a token may hold part of a character). */
  bytes?: number[];
}

/** One token of the answer's text, in order. */
export interface TokenLogprob extends TopLogprob {
  /**
   * The most likely tokens at this position, most likely first (the chosen token may or may not be among
   * them); present when `topLogprobs` > 0 was asked for and the provider returned them.
   */
  topLogprobs?: TopLogprob[];
}
