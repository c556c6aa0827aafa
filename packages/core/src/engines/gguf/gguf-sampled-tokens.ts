import type * as NodeLlamaCpp from 'node-llama-cpp';

type Token = NodeLlamaCpp.Token;

/** Thrown into `LlamaCompletion` when it asks for a token after `watchSampledTokens`' callback ended the answer. */
export class SamplingEnded extends Error {
  override readonly name = 'SamplingEnded';
}

/**
 * Calls `onToken` with every token `sequence`'s `evaluate` generator yields, in order, as the sampler chooses it:
 * the tokens `LlamaCompletion` generates (through `sequence.evaluate`), before it holds any back (a token whose text
 * ends inside a split character, or could begin one of its stop triggers) and before its stop handling re-tokenizes
 * the text it keeps. Once `onToken` returns false no token is sampled after that one: `LlamaCompletion` either looks
 * at its (aborted) signal and returns, or asks for one more token and gets `SamplingEnded` thrown instead (it skips
 * its signal and maxTokens checks after a token whose own text ends in U+FFFD).
 */
export function watchSampledTokens(sequence: NodeLlamaCpp.LlamaContextSequence, onToken: (token: Token) => boolean): void {
  const evaluate = sequence.evaluate.bind(sequence);
  sequence.evaluate = (tokens, options) => tap(evaluate(tokens, options), onToken);
}

async function* tap(
  source: AsyncGenerator<Token, void, void | Token | Token[]>,
  onToken: (token: Token) => boolean,
): AsyncGenerator<Token, void, void | Token | Token[]> {
  try {
    let input: void | Token | Token[] = undefined;
    for (;;) {
      const next = await source.next(input);
      if (next.done) return;
      const more = onToken(next.value);
      input = yield next.value;
      if (!more) throw new SamplingEnded('The answer ended (stop sequence or maxTokens)');
    }
  } finally {
    await source.return(undefined);
  }
}
