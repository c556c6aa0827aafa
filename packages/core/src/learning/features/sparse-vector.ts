/** A sparse feature vector: sorted unique `index` with their `value`. Dense parts list every index. */
export interface SparseVector {
  index: Int32Array;
  value: Float32Array;
}

/** Dot product of a sparse vector with row-major weights `w` (dim x cols), column `col`. */
export function sparseDotColumn(x: SparseVector, w: Float32Array | Float64Array, cols: number, col: number): number {
  let s = 0;
  const { index, value } = x;
  for (let k = 0; k < index.length; k++) s += value[k]! * w[index[k]! * cols + col]!;
  return s;
}

/** Cosine similarity of two sparse vectors (sorted indices). */
export function sparseCosine(a: SparseVector, b: SparseVector): number {
  let i = 0, j = 0, dot = 0;
  while (i < a.index.length && j < b.index.length) {
    const ai = a.index[i]!, bj = b.index[j]!;
    if (ai === bj) dot += a.value[i++]! * b.value[j++]!;
    else if (ai < bj) i++;
    else j++;
  }
  const na = norm(a), nb = norm(b);
  return na === 0 || nb === 0 ? 0 : dot / (na * nb);
}

export function norm(a: SparseVector): number {
  let s = 0;
  for (let k = 0; k < a.value.length; k++) s += a.value[k]! * a.value[k]!;
  return Math.sqrt(s);
}
