import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelConfig, RouterConfig } from './schema.js';

/** An enabled local model (gguf, onnx) whose file does not exist (or is a directory). */
export interface MissingModelFile {
  model: string;
  /** The v3 tenant whose own model it is; absent for a shared model. */
  tenant?: string;
  /** The file looked for: `path` resolved as the router resolves it (against `modelsDir`, else `baseDir`). */
  path: string;
}

const LOCAL_ENGINES: ReadonlySet<string> = new Set(['gguf', 'onnx']);

/** Whether `path` is a regular file (through symlinks); a directory, a path that cannot be read or none: false. */
function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

/**
 * Disables (`enabled: false`) every enabled gguf/onnx model of `config` (shared, and v3 tenants' own) whose file
 * is not a file (none there, or a directory: the engines read a file), and names them: such a model could not
 * answer (every call to it would fail), yet it would be listed and picked by routing. Disabled, it is left out of
 * both, and the rest of the config (routes, allow-lists naming it) stays valid. `baseDir` is the router's. The
 * gateway server and the `llmrr` CLI both start from it.
 */
export function disableMissingLocalModels(config: RouterConfig, baseDir: string): { config: RouterConfig; missing: MissingModelFile[] } {
  const modelsBase = resolve(baseDir, config.modelsDir ?? '.');
  const missing: MissingModelFile[] = [];
  const check = (models: ModelConfig[], tenant?: string): ModelConfig[] =>
    models.map((m) => {
      if (!m.enabled || !LOCAL_ENGINES.has(m.engine) || !m.path) return m;
      const path = resolve(modelsBase, m.path);
      if (isFile(path)) return m;
      missing.push({ model: m.name, ...(tenant !== undefined ? { tenant } : {}), path });
      return { ...m, enabled: false };
    });
  const models = check(config.models);
  if (config.version !== 3) return { config: missing.length ? { ...config, models } : config, missing };
  const tenants = config.tenants.map((t) => (t.models.length ? { ...t, models: check(t.models, t.id) } : t));
  return { config: missing.length ? { ...config, models, tenants } : config, missing };
}

/** The one-line warning for a model `disableMissingLocalModels` left out; `source` names the config it came from. */
export function missingModelWarning(m: MissingModelFile, source: string): string {
  const owner = m.tenant !== undefined ? ` of tenant "${m.tenant}"` : '';
  return `model "${m.model}"${owner} (${source}) is left out (not listed, not routed to): its file ${m.path} does not exist or is not a file`;
}
