import type { StreamPart } from '@llmrr/core';

/**
 * The text a stream produced so far (answer, reasoning, tool names and arguments), for estimating the
 * output tokens of a stream that ended without usage. A whole `tool-call` counts only when no deltas
 * came for its index (providers that stream deltas also send the assembled call).
 */
export class ProducedText {
  private readonly pieces: string[] = [];
  /** The tool calls that came as deltas (made on the first: most streams have none). */
  private deltaIndexes: Set<number> | undefined;
  /** The tool calls whose name was counted (an upstream may repeat it on every delta). */
  private namedIndexes: Set<number> | undefined;

  add(part: StreamPart): void {
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta':
        this.pieces.push(part.delta);
        break;
      case 'tool-call-delta': {
        const indexes = (this.deltaIndexes ??= new Set());
        // A tool call's name counts once: an upstream may repeat it on every piece (core's estimate counts it once).
        if (part.name !== undefined && !(this.namedIndexes ??= new Set()).has(part.index)) {
          this.namedIndexes.add(part.index);
          this.pieces.push(part.name);
        }
        indexes.add(part.index);
        this.pieces.push(part.argumentsDelta);
        break;
      }
      case 'tool-call':
        if (this.deltaIndexes?.has(part.index) !== true) this.pieces.push(part.toolCall.name, part.toolCall.arguments);
        break;
      default:
        break;
    }
  }

  text(): string {
    return this.pieces.join('');
  }
}
