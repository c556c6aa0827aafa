import type { RouterConfigInput } from '@llmrr/core';

/** Config versions this package knows: 1 is the original `llm-runner-router`, 2 and 3 are `@llmrr/core`'s. */
export type ConfigVersion = 1 | 2 | 3;

export type IssueSeverity = 'error' | 'warning' | 'info';

/** One thing a migration or validation has to say about a config field. */
export interface MigrationIssue {
  /** Dotted path of the field in the input (`models.0.format`), empty for the root. */
  path: string;
  message: string;
  severity: IssueSeverity;
}

/** Where a key of the input went in the output; tools that keep comments use it to carry them along. */
export interface KeyMove {
  from: ReadonlyArray<string | number>;
  to: ReadonlyArray<string | number>;
}

/** A plain JSON-like config object as read from a file or an object literal. */
export type PlainConfig = Record<string, unknown>;

/** A v2 or v3 config in the input form `@llmrr/core` validates (defaults left out). */
export type MigratedConfig = RouterConfigInput & Record<string, unknown>;

export interface MigrationResult {
  config: MigratedConfig;
  from: ConfigVersion;
  to: ConfigVersion;
  /** False when the input already was at the target version (the output is then the input, untouched). */
  changed: boolean;
  issues: MigrationIssue[];
  moves: KeyMove[];
}

export interface ValidationResult {
  valid: boolean;
  version: ConfigVersion | undefined;
  issues: MigrationIssue[];
}
