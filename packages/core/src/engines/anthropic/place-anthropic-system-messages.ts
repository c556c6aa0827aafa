import type { AnthropicRequestMessage, AnthropicSystemBlock, AnthropicSystemMessage } from './anthropic-api-types.js';
import type { AnthropicCallWarnings } from './anthropic-call-warnings.js';

/**
 * System messages that came after the conversation started, with no turn between them: one mid-conversation
 * system message on the wire (Anthropic allows no two in a row), or, where that cannot go, blocks of the
 * top-level system prompt. `indexes`: their positions in the request's `messages`.
 */
export interface SystemRun {
  role: 'system';
  blocks: AnthropicSystemBlock[];
  indexes: number[];
}

/** A converted turn (user or assistant, before same-role merging) or a run of later system messages. */
export type ConvertedEntry = AnthropicRequestMessage | SystemRun;

/**
 * How the later system messages can go: `takesMid`, the deployment takes mid-conversation system messages;
 * `verbatimMessages`, `providerOptions.anthropic.messages` replaces the converted turns (a message placed among
 * them would be lost with them); `verbatimSystem`, `providerOptions.anthropic.system` replaces the top-level
 * prompt (a message hoisted into it is not sent).
 */
export interface SystemPlacement {
  takesMid: boolean;
  verbatimMessages?: boolean;
  verbatimSystem?: boolean;
}

/** Why a later system message cannot go in place; undefined when it can. */
function hoistReason(placement: SystemPlacement, prev: AnthropicRequestMessage | undefined, next: AnthropicRequestMessage | undefined): string | undefined {
  if (!placement.takesMid) return 'this deployment does not take mid-conversation system messages (Claude Opus 4.8 does; options.midConversationSystem)';
  if (placement.verbatimMessages) return 'providerOptions.anthropic.messages replaces the converted turns it would sit among';
  if (!prev) return 'no turn is sent before it, and a mid-conversation system message cannot be the first entry';
  if (prev.role !== 'user') return 'it follows an assistant turn, and a mid-conversation system message must follow a user turn';
  if (next && next.role !== 'assistant') {
    return 'a user or tool turn follows it, and a mid-conversation system message must be followed by an assistant turn or end the conversation';
  }
  return undefined;
}

/** A run sent in place: a string (the texts joined by a blank line) unless a block carries a cache breakpoint. */
function systemMessage(run: SystemRun): AnthropicSystemMessage {
  const blocks = run.blocks;
  if (blocks.some((b) => b.cache_control !== undefined)) return { role: 'system', content: blocks };
  return { role: 'system', content: blocks.length === 1 ? blocks[0]!.text : blocks.map((b) => b.text).join('\n\n') };
}

/**
 * The wire `messages` of the converted entries: consecutive turns of one role become one message (tool results
 * followed by user text, several tool results), and each run of later system messages goes either in place, as a
 * `{ role: "system" }` message, or into `system` (the top-level blocks, appended in order) with one
 * `system_message_hoisted` warning per message of the run (`setting_not_sent` instead when
 * `providerOptions.anthropic.system` replaces the top-level prompt: then the text is not sent at all).
 *
 * A run goes in place when the deployment takes mid-conversation system messages (`takesMid`), the converted turns
 * are sent (no `providerOptions.anthropic.messages`) and its position is legal once the turns around it are
 * merged: after a user turn (a tool result is one), and before an assistant turn or at the end. The other cases,
 * hoisted:
 * - after an assistant turn (which also keeps it from ever sitting between a `tool_use` and its `tool_result`);
 * - between a user turn and another user turn (a tool result, or user text): sending it in place would need the
 *   two user turns apart, which Anthropic's alternation does not allow, and joining the turns around it would move
 *   it; so it joins the top-level prompt and the user turns merge as they always did;
 * - with no turn before it (only empty assistant turns came first).
 * Every decision is local: a run's neighbours are turns, and hoisting one run changes no other run's neighbours.
 */
export function placeSystemMessages(
  entries: readonly ConvertedEntry[],
  system: AnthropicSystemBlock[],
  placement: SystemPlacement,
  notes: AnthropicCallWarnings,
): Array<AnthropicRequestMessage | AnthropicSystemMessage> {
  const merged: Array<AnthropicRequestMessage | AnthropicSystemMessage> = [];
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[k]!;
    if (entry.role === 'system') {
      // Runs are maximal: the entries around a run are turns.
      const why = hoistReason(placement, entries[k - 1] as AnthropicRequestMessage | undefined, entries[k + 1] as AnthropicRequestMessage | undefined);
      if (why === undefined) {
        merged.push(systemMessage(entry));
        continue;
      }
      system.push(...entry.blocks);
      for (const i of entry.indexes) {
        if (placement.verbatimSystem) {
          notes.add('setting_not_sent', `messages.${i}`, `The system message was not sent: providerOptions.anthropic.system replaced the top-level system prompt, which it would have joined because ${why}.`);
        } else {
          notes.add('system_message_hoisted', `messages.${i}`, `The system message was joined into the top-level system prompt instead of being sent in its place: ${why}.`);
        }
      }
      continue;
    }
    const last = merged[merged.length - 1];
    if (last && last.role === entry.role) last.content = [...(last as AnthropicRequestMessage).content, ...entry.content];
    else merged.push({ role: entry.role, content: [...entry.content] });
  }
  return merged;
}
