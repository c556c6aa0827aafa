export { GgufEngine, createGgufEngine } from './gguf-engine.js';
export { GgufOptionsSchema } from './gguf-options.js';
export type { GgufOptions, GgufOptionsInput } from './gguf-options.js';
