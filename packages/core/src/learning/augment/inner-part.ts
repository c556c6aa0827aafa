import { fnv1a } from '../datasets/split-examples.js';
import { normalizePromptText } from './prompt-overlap.js';

/**
 * The inner part (0 .. parts-1) of a router training prompt for cross-fitting in-fold augmentation,
 * by its normalized text: prompts with the same question text share a part.
 */
export function innerPart(prompt: string, parts: number): number {
  return fnv1a(`infold:${normalizePromptText(prompt)}`) % parts;
}
