export { OpenAICompatibleEngine, createOpenAICompatibleEngine } from './openai-compatible-engine.js';
export { AZURE_DEFAULT_API_VERSION, OPENAI_COMPATIBLE_PRESETS } from './presets.js';
export { PROMPT_CACHE_KEY_MAX_LENGTH } from './prompt-cache-key.js';
export type { AuthStyle, OpenAICompatiblePreset, OpenAICompatiblePresetName } from './presets.js';
export { OpenAICompatibleOptionsSchema } from './openai-compatible-options.js';
export type { OpenAICompatibleOptions } from './openai-compatible-options.js';
export { OpenAIStreamDecoder } from './openai-stream-decoder.js';
export type { OpenAIStreamDecoderOptions } from './openai-stream-decoder.js';
