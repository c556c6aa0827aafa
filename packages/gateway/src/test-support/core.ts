// TODO(coordinator): import these from '@llmrr/core' once the core index exports the router and the
// stores; until then the tests reach them through core's source files.
export { LLMRouter } from '../../../core/src/router/llm-router.js';
export { createStateStores } from '../../../core/src/stores/index.js';
export { createOpenAICompatibleEngine } from '../../../core/src/engines/openai-compatible/index.js';
export { startOpenAIWireServer } from '../../../core/src/test/openai-wire-server.js';
