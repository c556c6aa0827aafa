/**
 * An assistant turn's text given back in pieces (several `text` blocks on `/v1/messages`, text and refusal parts on
 * chat completions, `output_text` parts and the messages around a function call on the Responses API), as one string:
 * the pieces as they are, with nothing added between. They are the model's own answer in pieces: the gateway's streamed
 * answer splits its text around a tool call (`"Let me check."`, tool call, `"Done."`) where its JSON answer has one
 * string, so only a plain join gives the upstream back the text the model wrote (and keeps a streaming client's next
 * turn on the exact-cache entry of the same conversation continued from the JSON answer). A separator would be a
 * guess the model never made: wrong in every language written without spaces. A client that splits its own
 * assistant text keeps its separator in a piece (user turns, system and tool parts are joined with a newline).
 */
export function joinAnswerText(text: string, piece: string): string {
  return text + piece;
}
