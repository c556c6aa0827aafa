/**
 * Gradient accumulator for a row-major weight matrix (rows x cols) fed by sparse inputs: a dense
 * buffer plus the list of touched rows, so a batch update visits only those rows.
 */
export class RowGradient {
  readonly g: Float32Array;
  private readonly touched: Uint8Array;
  private readonly list: number[] = [];

  constructor(
    rows: number,
    readonly cols: number,
  ) {
    this.g = new Float32Array(rows * cols);
    this.touched = new Uint8Array(rows);
  }

  /** Adds `scale x v[c]` to row `r`, column c, for every column. */
  addRow(r: number, scale: number, v: ArrayLike<number>): void {
    if (!this.touched[r]) {
      this.touched[r] = 1;
      this.list.push(r);
    }
    const base = r * this.cols;
    for (let c = 0; c < this.cols; c++) this.g[base + c]! += scale * v[c]!;
  }

  /** Calls `fn(index, gradient)` for every element of the touched rows, then clears. */
  flush(fn: (i: number, g: number) => void): void {
    for (const r of this.list) {
      const base = r * this.cols;
      for (let c = 0; c < this.cols; c++) {
        fn(base + c, this.g[base + c]!);
        this.g[base + c] = 0;
      }
      this.touched[r] = 0;
    }
    this.list.length = 0;
  }
}
