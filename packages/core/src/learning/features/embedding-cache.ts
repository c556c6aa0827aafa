import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';

/** Default cache folder (gitignored): `.llmrr/cache/embeddings` under the working directory. */
export const EMBEDDING_CACHE_DIR = join('.llmrr', 'cache', 'embeddings');

export function textKey(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Prompt embeddings on disk, keyed by the SHA-256 of the text: one append-only binary file per
 * embedding model (`<model>.<dim>.bin`), records of 32 hash bytes + `dim` float32 values. Loaded whole
 * into memory; new embeddings are appended, so an interrupted run keeps what it computed. A torn last
 * record (a run killed mid-append) is cut off on open, so later appends stay aligned.
 */
export class EmbeddingCache {
  private readonly map = new Map<string, Float32Array>();
  readonly file: string;

  private constructor(
    readonly dir: string,
    readonly model: string,
    readonly dim: number,
  ) {
    this.file = join(dir, `${model.replace(/[^\w.-]+/g, '_')}.${dim}.bin`);
  }

  static async open(dir: string, model: string, dim: number): Promise<EmbeddingCache> {
    const c = new EmbeddingCache(dir, model, dim);
    let buf: Buffer | undefined;
    try {
      buf = await readFile(c.file);
    } catch {
      buf = undefined;
    }
    if (buf) {
      const rec = 32 + dim * 4;
      const whole = buf.length - (buf.length % rec);
      if (whole < buf.length) await truncate(c.file, whole);
      for (let off = 0; off < whole; off += rec) {
        const key = buf.subarray(off, off + 32).toString('hex');
        const v = new Float32Array(dim);
        for (let i = 0; i < dim; i++) v[i] = buf.readFloatLE(off + 32 + i * 4);
        c.map.set(key, v);
      }
    }
    return c;
  }

  get size(): number {
    return this.map.size;
  }

  get(text: string): Float32Array | undefined {
    return this.map.get(textKey(text));
  }

  /** Stores embeddings (in memory and appended to the file). */
  async put(entries: ReadonlyArray<[string, ArrayLike<number>]>): Promise<void> {
    if (entries.length === 0) return;
    const rec = 32 + this.dim * 4;
    const buf = Buffer.alloc(rec * entries.length);
    entries.forEach(([text, v], k) => {
      const key = textKey(text);
      Buffer.from(key, 'hex').copy(buf, k * rec);
      const f = Float32Array.from(v);
      for (let i = 0; i < this.dim; i++) buf.writeFloatLE(f[i] ?? 0, k * rec + 32 + i * 4);
      this.map.set(key, f);
    });
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.file, buf);
  }

  /** Embeds (in batches) the texts not cached yet; `progress` gets (done, total). */
  async fill(texts: readonly string[], embed: (batch: string[]) => Promise<ArrayLike<number>[]>, progress?: (done: number, total: number) => void, batchSize = 32): Promise<void> {
    const missing = [...new Set(texts)].filter((t) => !this.map.has(textKey(t)));
    for (let s = 0; s < missing.length; s += batchSize) {
      const batch = missing.slice(s, s + batchSize);
      const vectors = await embed(batch);
      await this.put(batch.map((t, i) => [t, vectors[i]!]));
      progress?.(Math.min(missing.length, s + batchSize), missing.length);
    }
  }
}
