/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` serialize alike. Array order is kept
 * (it means something: message order, stop order). `undefined` members are dropped as JSON.stringify does;
 * non-finite numbers become `null`. Strings are kept byte for byte (no whitespace or Unicode normalization).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, new Set())) ?? 'null';
}

function sortKeys(input: unknown, seen: Set<object>): unknown {
  const value = hasToJSON(input) ? input.toJSON() : input;
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) throw new TypeError('canonicalJson: circular structure');
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) out = value.map((v) => (v === undefined ? null : sortKeys(v, seen)));
  else {
    // No prototype: a `__proto__` key stays an ordinary member.
    const obj = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== 'function') obj[key] = sortKeys(v, seen);
    }
    out = obj;
  }
  seen.delete(value);
  return out;
}

function hasToJSON(v: unknown): v is { toJSON(): unknown } {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function';
}
