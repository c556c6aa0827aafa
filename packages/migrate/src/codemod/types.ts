import type { ConfigVersion, MigrationIssue } from '../library/types.js';
import type { ModelNameTable } from '../library/model-names.js';

/** Something the codemod saw but did not convert: left untouched, reported with its place and reason. */
export interface SkipReport {
  file: string;
  line: number;
  column: number;
  reason: string;
}

export interface FileTransformOptions {
  to: 2 | 3;
  /** Tenant for v3 configs and calls. */
  tenant?: string;
  modelNames?: ModelNameTable;
  /** The file was named by the user (not found by walking a folder): a JSON/YAML file that is not a config is then an error. */
  explicit?: boolean;
}

export type FileKind = 'json' | 'yaml' | 'source';

export interface FileTransformResult {
  file: string;
  kind: FileKind;
  /** The new text (equal to the input when nothing changed). */
  output: string;
  changed: boolean;
  /** Version of the config found (config files and inline configs), if any. */
  from?: ConfigVersion;
  /** Migration issues, with paths prefixed by where the config is (`file:line` for inline configs). */
  issues: Array<MigrationIssue & { line?: number }>;
  skipped: SkipReport[];
  /** Fatal problems (parse errors, not a config, a migration that would produce an invalid config): the file is left as is. */
  errors: string[];
  /** True when a walked JSON/YAML file turned out not to be a router config: ignored, not an error. */
  ignored?: boolean;
}
