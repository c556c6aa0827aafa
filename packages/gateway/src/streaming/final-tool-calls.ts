import type { ToolCall } from '@llmrr/core';

/** A tool call a stream encoder has seen, with the id the router's result knows it by. */
export interface SeenToolCall {
  /**
   * The id of its whole `tool-call` part once that came, else the last id its pieces carried (`''` if none):
   * the id the router's result (core's stream accumulator) gives the call.
   */
  resultId: string;
}

/**
 * Pairs the final tool calls of the router's result (the answer's calls, the ones a non-streamed call of the
 * same answer returns and the ledger counts) with the calls the encoder has seen, by the id the result knows
 * each by, in order. `unseen` are the result's calls that never came as parts: the encoder still has to send
 * them.
 */
export function pairFinalToolCalls<C extends SeenToolCall>(seen: Iterable<C>, finals: readonly ToolCall[]): { paired: Array<[C, ToolCall]>; unseen: ToolCall[] } {
  const paired: Array<[C, ToolCall]> = [];
  const unseen: ToolCall[] = [];
  if (finals.length === 0) return { paired, unseen };
  const byId = new Map<string, C[]>();
  for (const c of seen) {
    const list = byId.get(c.resultId);
    if (list) list.push(c);
    else byId.set(c.resultId, [c]);
  }
  for (const w of finals) {
    const c = byId.get(w.id)?.shift();
    if (c) paired.push([c, w]);
    else unseen.push(w);
  }
  return { paired, unseen };
}

/** Tool-call arguments quoted for an error message, at most 200 characters of them. */
export function quoteArgs(args: string): string {
  return JSON.stringify(args.length > 200 ? `${args.slice(0, 200)}...` : args);
}
