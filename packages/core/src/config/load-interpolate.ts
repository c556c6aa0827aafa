/**
 * `${ENV_VAR}` interpolation in the string values of a config file, so secrets stay in the environment.
 *
 * - `${NAME}`: the variable's value; an error when it is not set.
 * - `${NAME:-fallback}`: the fallback when the variable is unset or empty.
 * - `$${...}`: a literal `${...}`.
 * Only string values are touched (not keys); the result stays a string (`"${PORT}"` gives `"8080"`).
 * A reference that starts the string and gives a value (or fallback) starting with `~` (alone, or before `/` or `\`)
 * has that `~` made the home directory (`expandHomePath`): `path: ${LLMRR_SHARED_DIR:-../shared}/models/x.gguf`
 * with `LLMRR_SHARED_DIR=~/shared` from a .env file or docker's `environment:` (which pass the `~` on as it is) is
 * `$HOME/shared/models/x.gguf`, as the gateway server and the `llmrr` CLI take `~` in the path variables they read.
 * A `~` anywhere else in a string stays as it is.
 */

import { expandHomePath } from './home-path.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A bad or missing reference, with the field path where it was found. */
export interface InterpolationProblem {
  path: Array<string | number>;
  message: string;
}

const REF = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Returns the interpolated copy of `value`, or the problems found (every one of them, not just the first). */
export function interpolateEnv(value: unknown, env: Env): { value: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const out = walk(value, env, [], problems);
  return { value: out, problems };
}

function walk(value: unknown, env: Env, path: Array<string | number>, problems: InterpolationProblem[]): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path, problems);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, env, [...path, i], problems));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: walk(v, env, [...path, k], problems), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function interpolateString(s: string, env: Env, path: Array<string | number>, problems: InterpolationProblem[]): string {
  if (!s.includes('${')) return s;
  return s.replace(REF, (match: string, body: string | undefined, offset: number) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      problems.push({ path, message: 'unclosed "${" (write "$${" for a literal "${")' });
      return match;
    }
    const sep = body.indexOf(':-');
    const name = (sep === -1 ? body : body.slice(0, sep)).trim();
    if (!NAME.test(name)) {
      problems.push({ path, message: `"\${${body}}" is not a valid environment variable reference` });
      return match;
    }
    const v = env[name];
    if (sep !== -1) return atStart(v === undefined || v === '' ? body.slice(sep + 2) : v, offset, env);
    if (v === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set (referenced as "\${${name}}"; use "\${${name}:-default}" for a fallback)` });
      return match;
    }
    return atStart(v, offset, env);
  });
}

/** A value that starts its string: its leading `~` is the home directory (a path from a .env file, docker). */
function atStart(value: string, offset: number, env: Env): string {
  return offset === 0 && value[0] === '~' ? expandHomePath(value, env) : value;
}
