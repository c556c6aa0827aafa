/**
 * `${ENV_VAR}` interpolation in the string values of a config file, so secrets stay in the environment.
 *
 * - `${NAME}`: the variable's value; an error when it is not set.
 * - `${NAME:-fallback}`: the fallback when the variable is unset or empty.
 * - `$${...}`: a literal `${...}`.
 * Only string values are touched (not keys); the result stays a string (`"${PORT}"` gives `"8080"`).
 * A string whose value starts with a reference that gives a value (or fallback) starting with `~` is listed in
 * `homeStarts`: the loader makes that `~` the home directory in the fields that are paths only (`expandHomePaths`
 * in load.ts), never in a key or header value that happens to start with `~`.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A bad or missing reference, with the field path where it was found. */
export interface InterpolationProblem {
  path: Array<string | number>;
  message: string;
}

const REF = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Interpolated {
  value: unknown;
  problems: InterpolationProblem[];
  /**
   * Paths of the strings that start with a reference whose value (or fallback) starts with `~`: a path from a .env
   * file or docker's `environment:`, which pass `~` on as it is, when the field is one (`LLMRR_SHARED_DIR=~/shared`).
   */
  homeStarts: Array<Array<string | number>>;
}

/** Returns the interpolated copy of `value`, or the problems found (every one of them, not just the first). */
export function interpolateEnv(value: unknown, env: Env): Interpolated {
  const state: WalkState = { env, problems: [], homeStarts: [] };
  const out = walk(value, [], state);
  return { value: out, problems: state.problems, homeStarts: state.homeStarts };
}

interface WalkState {
  env: Env;
  problems: InterpolationProblem[];
  homeStarts: Array<Array<string | number>>;
}

function walk(value: unknown, path: Array<string | number>, state: WalkState): unknown {
  if (typeof value === 'string') return interpolateString(value, path, state);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], state));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: walk(v, [...path, k], state), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function interpolateString(s: string, path: Array<string | number>, state: WalkState): string {
  if (!s.includes('${')) return s;
  const { env, problems } = state;
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
    const given = sep !== -1 ? (v === undefined || v === '' ? body.slice(sep + 2) : v) : v;
    if (given === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set (referenced as "\${${name}}"; use "\${${name}:-default}" for a fallback)` });
      return match;
    }
    if (offset === 0 && given[0] === '~') state.homeStarts.push(path);
    return given;
  });
}
