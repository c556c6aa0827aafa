import { parseArgs } from 'node:util';
import { CliUsageError } from './cli-usage-error.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /**
   * A string flag that takes `-` as its value (stdout or stdin, as the command reads it: `router eval --out -`). Any
   * other flag refuses a bare `-` as it refuses `-m --json` (`--write-anchor -` is no file named `-`); `--flag=-` is
   * taken as written.
   */
  dash?: true;
}
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean;
};

export interface ParsedFlags<S extends FlagSpecs> {
  values: FlagValues<S>;
  positionals: string[];
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagSpecs;

const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Parses `args` with node:util `parseArgs` (tokens mode) and checks every token itself, so each mistake
 * names its flag: unknown flags, string flags without a value (`-m` at the end, or `-m --json`), and
 * boolean flags given a value (`--json=1`). The last occurrence of a flag wins. Throws `CliUsageError`.
 */
export function parseFlags<S extends FlagSpecs>(args: readonly string[], specs: S): ParsedFlags<S> {
  const { tokens } = parseArgs({ args: [...args], options: specs, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (!spec) throw new CliUsageError(`unknown option ${token.rawName}`, token.rawName);
    const name = spec.short ? `-${spec.short}/--${token.name}` : `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new CliUsageError(`option ${name} takes no value (got "${token.value ?? ''}")`, token.rawName);
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined) throw new CliUsageError(`option ${name} needs a value`, token.rawName);
    // `-m --json`: parseArgs (non-strict) would take "--json" as the value; refuse, except negative numbers and `-`
    // for a flag that takes it (`dash`: stdin or stdout, as the command reads it: `--out -`).
    if (!token.inlineValue && value.startsWith('-') && !(value === '-' && spec.dash) && !NUMBER.test(value)) {
      throw new CliUsageError(`option ${name} needs a value (got the option "${value}"; write ${token.rawName}=${value} if you mean it)`, token.rawName);
    }
    values[token.name] = value;
  }
  return { values: values as FlagValues<S>, positionals };
}

/** A whole number flag in [min, max]. */
export function intFlag(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliUsageError(`option ${flag} expects a whole number ${rangeText(min, max)}, got "${value}"`, flag);
  }
  return n;
}

/** A finite number flag in [min, max]. */
export function numberFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = NUMBER.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new CliUsageError(`option ${flag} expects a number from ${min} to ${max}, got "${value}"`, flag);
  }
  return n;
}

function rangeText(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
}
