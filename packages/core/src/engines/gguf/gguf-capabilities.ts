import type { Capability, ModelConfig } from '../../config/schema.js';

const GGUF: readonly Capability[] = Object.freeze(['chat', 'streaming', 'json', 'completion']);

/**
 * What a `gguf` model can do, known from its config alone (the model file loads on first use): chat,
 * streaming, JSON output (grammar-constrained) and plain completion. No embeddings, no tools, no vision.
 */
export function ggufCapabilities(_model: ModelConfig): readonly Capability[] {
  return GGUF;
}
