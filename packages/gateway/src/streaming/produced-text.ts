import type { StreamPart } from '@llmrr/core';

/**
 * The text a stream produced so far (answer, reasoning, tool names and arguments), for estimating the
 * output tokens of a stream that ended without usage. A whole `tool-call` counts only when no deltas
 * came for its index (providers that stream deltas also send the assembled call).
 */
export class ProducedText {
  private readonly pieces: string[] = [];
  private readonly deltaIndexes = new Set<number>();

  add(part: StreamPart): void {
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta':
        this.pieces.push(part.delta);
        break;
      case 'tool-call-delta':
        this.deltaIndexes.add(part.index);
        this.pieces.push(part.name ?? '', part.argumentsDelta);
        break;
      case 'tool-call':
        if (!this.deltaIndexes.has(part.index)) this.pieces.push(part.toolCall.name, part.toolCall.arguments);
        break;
      default:
        break;
    }
  }

  text(): string {
    return this.pieces.join('');
  }
}
