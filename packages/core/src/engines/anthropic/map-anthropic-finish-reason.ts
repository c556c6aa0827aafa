import type { FinishReason } from '../../spec/usage.js';

/**
 * Anthropic `stop_reason` -> our finish reason. `tool_use` counts as `tool-calls` only when a real
 * tool was called (JSON mode delivers its answer through a tool, which is a plain `stop` for the caller).
 */
export function mapAnthropicFinishReason(stopReason: string | null | undefined, hasToolCalls: boolean): FinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return hasToolCalls ? 'tool-calls' : 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content-filter';
    default:
      // `pause_turn` (a server tool paused a long turn), null, and reasons added later.
      return 'other';
  }
}
