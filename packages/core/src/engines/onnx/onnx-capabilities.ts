import type { Capability, ModelConfig } from '../../config/schema.js';
import { onnxTask, parseOnnxOptions } from './onnx-options.js';

const EMBED: readonly Capability[] = Object.freeze(['embeddings']);
const GENERATE: readonly Capability[] = Object.freeze(['chat', 'completion', 'streaming']);

/**
 * What an `onnx` model can do, from its config alone (the graph loads on first use): an embedding model
 * (`task: 'embed'`) embeds only, so the router never offers it for generate or stream; a text model
 * chats, completes and streams. Undefined when the options are invalid (creating the engine says why).
 */
export function onnxCapabilities(model: ModelConfig): readonly Capability[] | undefined {
  try {
    return onnxTask(model, parseOnnxOptions(model)) === 'embed' ? EMBED : GENERATE;
  } catch {
    return undefined;
  }
}
