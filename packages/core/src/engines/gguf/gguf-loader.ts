import { open, stat } from 'node:fs/promises';
import type * as NodeLlamaCpp from 'node-llama-cpp';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { LoadOnce } from '../shared/load-once.js';
import type { GgufOptions } from './gguf-options.js';

export type NodeLlamaCppModule = typeof NodeLlamaCpp;

/** A loaded model, shared by all requests of one engine. */
export interface LoadedGguf {
  lib: NodeLlamaCppModule;
  llama: NodeLlamaCpp.Llama;
  model: NodeLlamaCpp.LlamaModel;
  /** The chat wrapper, or null for raw completion. */
  chatWrapper: NodeLlamaCpp.ChatWrapper | null;
  /** Tokens per request context, as llama.cpp sizes it (the configured size rounded up). */
  contextSize: number;
}

export interface GgufLoaderConfig {
  /** Absolute path of the .gguf file. */
  path: string;
  /** Path as written in the config, for messages. */
  configuredPath: string;
  deployment: string;
  options: GgufOptions;
}

export const NODE_LLAMA_CPP_INSTALL = 'node-llama-cpp@3.21.1';

/**
 * Loads a GGUF model once, on first use; concurrent first calls share one load; a failed load is retried next time.
 * A missing file and one that is no GGUF file (its first bytes are not "GGUF") are `config_invalid`: no later try
 * cures them. A GGUF file that llama.cpp still cannot load (memory, an architecture it does not know, a damaged file)
 * is `internal`: retried on the next call, and a client may try again (the gateway hides both).
 */
export class GgufLoader {
  private readonly once = new LoadOnce(() => this.load());

  constructor(private readonly config: GgufLoaderConfig) {}

  get(): Promise<LoadedGguf> {
    return this.once.get();
  }

  /** Disposes the model and the llama instance (waits for a load in flight). */
  async dispose(): Promise<void> {
    const loaded = await this.once.take();
    if (!loaded) return;
    await loaded.model.dispose();
    await loaded.llama.dispose();
  }

  private error(code: 'config_invalid' | 'engine_unavailable' | 'internal', message: string, cause?: unknown): LLMError {
    return new LLMError({ code, message, param: 'path', provider: 'gguf', deployment: this.config.deployment, cause });
  }

  private async load(): Promise<LoadedGguf> {
    const { path, configuredPath, deployment, options } = this.config;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw this.error(
        'config_invalid',
        `GGUF model file not found: ${path} (model "${deployment}", path "${configuredPath}")`,
      );
    }
    if (!(await startsWithMagic(path))) {
      throw this.error('config_invalid', `Not a GGUF model file (it does not start with "GGUF"): ${path} (model "${deployment}", path "${configuredPath}")`);
    }
    const lib = await importOptional<NodeLlamaCppModule>('node-llama-cpp', { engine: 'gguf', install: NODE_LLAMA_CPP_INSTALL });
    let llama: NodeLlamaCpp.Llama;
    try {
      llama = await lib.getLlama({ gpu: options.gpu ? 'auto' : false, build: 'never', logLevel: lib.LlamaLogLevel.error });
    } catch (e) {
      throw this.error('engine_unavailable', `node-llama-cpp has no usable binary here: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    let model: NodeLlamaCpp.LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: options.gpu ? 'auto' : 0 });
    } catch (e) {
      await llama.dispose();
      throw this.error('internal', `Could not load GGUF model ${path}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    try {
      const chatWrapper = resolveWrapper(lib, model, options.chatTemplate);
      // llama.cpp rounds context sizes up (to a multiple of 256); learn the real size once.
      const probe = await model.createContext({ contextSize: options.contextSize ?? Math.min(512, model.trainContextSize), threads: options.threads });
      const contextSize = probe.contextSize;
      await probe.dispose();
      return { lib, llama, model, chatWrapper, contextSize };
    } catch (e) {
      await model.dispose();
      await llama.dispose();
      throw e instanceof LLMError ? e.with({ deployment }) : e;
    }
  }
}

/** Whether the file at `path` starts with the GGUF magic ("GGUF"); one that cannot be read is left to llama.cpp. */
async function startsWithMagic(path: string): Promise<boolean> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return true;
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === 'GGUF';
  } catch {
    return true;
  } finally {
    await file.close();
  }
}

function resolveWrapper(lib: NodeLlamaCppModule, model: NodeLlamaCpp.LlamaModel, chatTemplate: string): NodeLlamaCpp.ChatWrapper | null {
  if (chatTemplate === 'none') return null;
  if (chatTemplate === 'auto') {
    // Without a template in the file, node-llama-cpp would guess one from the architecture (stories260K
    // becomes "Llama 2 chat"); a model that was never trained on a chat format is better used raw.
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    if (typeof template !== 'string' || template === '') return null;
    return lib.resolveChatWrapper(model, { warningLogs: false }) ?? null;
  }
  const names: readonly string[] = lib.specializedChatWrapperTypeNames;
  if (!names.includes(chatTemplate)) {
    throw new LLMError({
      code: 'config_invalid',
      message: `options.chatTemplate: unknown chat template "${chatTemplate}" (use auto, none, or one of: ${names.join(', ')})`,
      param: 'options.chatTemplate',
      provider: 'gguf',
    });
  }
  return lib.resolveChatWrapper(model, { type: chatTemplate as NodeLlamaCpp.SpecializedChatWrapperTypeName, warningLogs: false }) ?? null;
}
