/**
 * An object schema of `n` string properties, all required, whose `required` array counts its element reads: a strict
 * schema checker's work on it must stay linear in `n` (a `required.includes` per property reads n x n elements).
 */
export function wideRequiredSchema(n: number): { schema: Record<string, unknown>; requiredReads: () => number } {
  const properties: Record<string, unknown> = {};
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    properties[`p${i}`] = { type: 'string' };
    names.push(`p${i}`);
  }
  let reads = 0;
  const required = new Proxy(names, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { schema: { type: 'object', additionalProperties: false, properties, required }, requiredReads: () => reads };
}
