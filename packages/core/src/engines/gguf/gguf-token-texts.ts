/**
 * The text each of the leading `tokens` adds to `text` (the answer as sent), for as many tokens as make `text` up:
 * joined, the returned texts are `text`, and the tokens after them (the end-of-generation token, a stop string's
 * tokens) are left out. Each token is decoded after up to `window` tokens before it (a SentencePiece token's leading
 * space, and the bytes of a character split across tokens, depend on what precedes it); a token that ends inside a
 * split character adds '' and the token that completes the character adds all of it. A token the answer ends inside
 * (a stop string began in it) adds the rest of `text`, the part of its text that was kept.
 */
export function answerTokenTexts<T extends number>(
  detokenize: (tokens: readonly T[]) => string,
  tokens: readonly T[],
  text: string,
  window: number,
): string[] {
  const texts: string[] = [];
  let at = 0;
  let out = 0; // the first token whose text is not out yet
  for (let j = 0; j < tokens.length && at < text.length; j++) {
    const from = Math.max(0, out - window);
    const before = detokenize(tokens.slice(from, out));
    const upTo = detokenize(tokens.slice(from, j + 1));
    if (upTo.endsWith('\uFFFD') && j + 1 < tokens.length) {
      texts.push('');
      continue;
    }
    let piece = upTo.startsWith(before) ? upTo.slice(before.length) : detokenize(tokens.slice(out, j + 1));
    out = j + 1;
    const rest = text.slice(at);
    if (!rest.startsWith(piece)) piece = rest;
    texts.push(piece);
    at += piece.length;
  }
  if (at < text.length && texts.length > 0) texts[texts.length - 1] += text.slice(at);
  return texts;
}
