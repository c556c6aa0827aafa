/**
 * Mean of the token vectors of row `row` of a [batch, seq, dim] tensor, over positions whose
 * attention mask is 1 (padding excluded).
 */
export function meanPool(data: ArrayLike<number>, dims: readonly [number, number, number], mask: ArrayLike<number | bigint>, row: number): number[] {
  const [, seq, dim] = dims;
  const out = new Array<number>(dim).fill(0);
  let count = 0;
  for (let t = 0; t < seq; t++) {
    if (Number(mask[row * seq + t]) === 0) continue;
    count++;
    const base = (row * seq + t) * dim;
    for (let d = 0; d < dim; d++) out[d]! += data[base + d]!;
  }
  return count === 0 ? out : out.map((x) => x / count);
}

/** The first token's vector (CLS pooling) of row `row` of a [batch, seq, dim] tensor. */
export function firstTokenPool(data: ArrayLike<number>, dims: readonly [number, number, number], row: number): number[] {
  const [, seq, dim] = dims;
  return Array.from({ length: dim }, (_, d) => data[row * seq * dim + d]!);
}

/** Row `row` of a [batch, dim] tensor. */
export function rowOf(data: ArrayLike<number>, dim: number, row: number): number[] {
  return Array.from({ length: dim }, (_, d) => data[row * dim + d]!);
}

/** The vector scaled to unit L2 length (a zero vector stays zero). */
export function l2Normalize(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((acc, x) => acc + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}
