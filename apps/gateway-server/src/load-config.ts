import { LLMError, parseConfig, type RouterConfig } from '@llmrr/core';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { defaultConfig, findStoriesModel } from './default-config.js';
import type { ServerSettings } from './settings.js';

const CANDIDATES = ['llmrr.config.json', 'llmrr.config.yaml', 'llmrr.config.yml'];

export interface LoadedConfig {
  config: RouterConfig;
  /** The file it came from, or `embedded default`. */
  source: string;
}

function readFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LLMError({ code: 'config_invalid', message: `Cannot read config file ${path}: ${(e as Error).message}`, param: 'LLMRR_CONFIG', cause: e });
  }
  try {
    return extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new LLMError({ code: 'config_invalid', message: `Config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`, cause: e });
  }
}

/** `LLMRR_CONFIG`, else `llmrr.config.{json,yaml,yml}` in the working directory, else the embedded default. */
export function loadConfig(settings: ServerSettings): LoadedConfig {
  const path = settings.configPath ?? CANDIDATES.map((f) => join(settings.cwd, f)).find((f) => existsSync(f));
  if (path) return { config: parseConfig(readFile(path), path), source: path };
  return { config: parseConfig(defaultConfig(findStoriesModel(settings.sharedDir)), 'embedded default config'), source: 'embedded default' };
}
