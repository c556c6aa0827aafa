/**
 * The indexes of the `k` largest of `values`, largest first (the lower index first on ties), in one pass keeping a
 * min-heap of `k` (O(n log k)): the top of a large vocabulary without sorting all of it.
 */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  const size = Math.max(0, Math.min(Math.floor(k), n));
  if (size === 0) return [];
  // `worse(a, b)`: a ranks below b (smaller value, or the same value at a higher index).
  const worse = (a: number, b: number) => values[a]! < values[b]! || (values[a] === values[b] && a > b);
  const heap: number[] = [];
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let low = at;
      if (l < heap.length && worse(heap[l]!, heap[low]!)) low = l;
      if (r < heap.length && worse(heap[r]!, heap[low]!)) low = r;
      if (low === at) return;
      [heap[at], heap[low]] = [heap[low]!, heap[at]!];
      at = low;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < size) {
      heap.push(i);
      for (let at = heap.length - 1; at > 0; ) {
        const parent = (at - 1) >> 1;
        if (!worse(heap[at]!, heap[parent]!)) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else if (worse(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
