/** Small helpers for JSON-like values. */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return Number.isNaN(a) && Number.isNaN(b);
}

/**
 * A deep copy of plain objects and arrays (other values are shared). Iterative: a config already at the target is
 * copied whatever its depth (an `x-...` value nested thousands of levels deep does not overflow the stack).
 */
export function clone<T>(value: T): T {
  const copyOf = (v: unknown): unknown => (Array.isArray(v) ? new Array<unknown>(v.length) : isPlainObject(v) ? {} : v);
  const root = copyOf(value);
  const stack: Array<[unknown, unknown]> = root === value ? [] : [[value, root]];
  while (stack.length) {
    const [from, to] = stack.pop()!;
    const entries: Array<[string | number, unknown]> = Array.isArray(from) ? from.map((v, i) => [i, v]) : Object.entries(from as Record<string, unknown>);
    for (const [k, v] of entries) {
      const copy = copyOf(v);
      (to as Record<string | number, unknown>)[k] = copy;
      if (copy !== v) stack.push([v, copy]);
    }
  }
  return root as T;
}

export type Path = ReadonlyArray<string | number>;

export function pathString(path: Path): string {
  return path.map(String).join('.');
}

/** The value at `path`, or undefined. */
export function getAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const key of path) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key];
    else if (isPlainObject(cur) && typeof key === 'string') cur = cur[key];
    else return undefined;
  }
  return cur;
}

/** Whether `path` exists in `root`. */
export function hasAt(root: unknown, path: Path): boolean {
  let cur = root;
  for (const key of path) {
    if (Array.isArray(cur) && typeof key === 'number' && key < cur.length) cur = cur[key];
    else if (isPlainObject(cur) && typeof key === 'string' && Object.hasOwn(cur, key)) cur = cur[key];
    else return false;
  }
  return true;
}

/** `camelCase`, `snake_case`, `Spaced Words` -> `kebab-case`. */
export function kebab(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[\s_]+/g, '-')
    .toLowerCase();
}
