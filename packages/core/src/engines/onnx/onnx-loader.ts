import { stat } from 'node:fs/promises';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { LoadOnce } from '../shared/load-once.js';
import type { OrtModule, OrtSession } from './ort-types.js';
import { planGraphIO, type GraphIO } from './graph-io.js';
import { loadTokenizer, type TextTokenizer } from './hf-tokenizer.js';
import type { OnnxOptions } from './onnx-options.js';

export const ONNXRUNTIME_INSTALL = 'onnxruntime-node@1.30.0';

/** A loaded graph with its tokenizer, shared by all requests of one engine. */
export interface LoadedOnnx {
  ort: OrtModule;
  session: OrtSession;
  tokenizer: TextTokenizer;
  io: GraphIO;
}

export interface OnnxLoaderConfig {
  /** Absolute paths. */
  path: string;
  tokenizerPath: string;
  tokenizerConfigPath?: string;
  /** Path as written in the config, for messages. */
  configuredPath: string;
  deployment: string;
  task: 'generate' | 'embed';
  options: OnnxOptions;
}

/** Loads the session and tokenizer once, on first use; concurrent first calls share one load; a failed load is retried next time. */
export class OnnxLoader {
  private readonly once = new LoadOnce(() => this.load());

  constructor(private readonly config: OnnxLoaderConfig) {}

  get(): Promise<LoadedOnnx> {
    return this.once.get();
  }

  /** Releases the session (waits for a load in flight). */
  async dispose(): Promise<void> {
    const loaded = await this.once.take();
    await loaded?.session.release();
  }

  private async load(): Promise<LoadedOnnx> {
    const { path, configuredPath, deployment, options, task } = this.config;
    const context = { provider: 'onnx', deployment };
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new LLMError({ code: 'config_invalid', message: `ONNX model file not found: ${path} (model "${deployment}", path "${configuredPath}")`, param: 'path', ...context });
    }
    const tokenizer = await loadTokenizer({
      path: this.config.tokenizerPath,
      ...(this.config.tokenizerConfigPath !== undefined ? { configPath: this.config.tokenizerConfigPath } : {}),
      ...(options.eosTokenId !== undefined ? { eosTokenId: options.eosTokenId } : {}),
    }).catch((e: unknown) => {
      throw LLMError.isInstance(e) ? e.with(context) : e;
    });
    const ort = await importOptional<OrtModule>('onnxruntime-node', { engine: 'onnx', install: ONNXRUNTIME_INSTALL });
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(path, {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new LLMError({ code: 'config_invalid', message: `Could not load ONNX model ${path}: ${e instanceof Error ? e.message : String(e)}`, param: 'path', cause: e, ...context });
    }
    try {
      const io = planGraphIO({ inputs: session.inputMetadata, outputs: session.outputMetadata }, task, path, options.output);
      return { ort, session, tokenizer, io };
    } catch (e) {
      await session.release();
      throw LLMError.isInstance(e) ? e.with(context) : e;
    }
  }
}
