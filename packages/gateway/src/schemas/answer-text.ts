/** White space at the end or the start of a piece (a seam already there). */
const SEAM = /\s/;

/**
 * An assistant turn's text given back in pieces (several `text` blocks on `/v1/messages`, text and refusal parts on
 * chat completions, `output_text` parts and the messages around a function call on the Responses API), as one string:
 * `text` then `piece`, with "\n" between (as a user turn's blocks, and vLLM a message's text parts, are joined) unless
 * a seam is already there (white space ending `text` or starting `piece`, or an empty side). So pieces never run
 * together into one word (["for you.", "Now let me"] -> "for you.\nNow let me"), and the gateway's own streamed answer
 * given back, its text split around a tool call (the JSON answer's one string: "Let me check." and " One moment."),
 * is the text the model wrote.
 */
export function joinAnswerText(text: string, piece: string): string {
  if (text === '') return piece;
  if (piece === '' || SEAM.test(text[text.length - 1]!) || SEAM.test(piece[0]!)) return text + piece;
  return `${text}\n${piece}`;
}
