/**
 * Adam over one parameter array, with lazy (per touched element) updates so sparse inputs stay cheap.
 * `step` must be advanced once per mini-batch by the caller (`tick`).
 */
export class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  private c1 = 1;
  private c2 = 1;

  constructor(
    readonly params: Float32Array,
    private readonly lr: number,
    private readonly l2 = 0,
    private readonly b1 = 0.9,
    private readonly b2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  tick(): void {
    this.t++;
    this.c1 = 1 - this.b1 ** this.t;
    this.c2 = 1 - this.b2 ** this.t;
  }

  /** Applies gradient `g` to element `i`. */
  update(i: number, g: number): void {
    const p = this.params;
    const grad = g + this.l2 * p[i]!;
    const m = (this.m[i] = this.b1 * this.m[i]! + (1 - this.b1) * grad);
    const v = (this.v[i] = this.b2 * this.v[i]! + (1 - this.b2) * grad * grad);
    p[i] = p[i]! - (this.lr * (m / this.c1)) / (Math.sqrt(v / this.c2) + this.eps);
  }
}

export { seededRandom } from '../../util/seeded-random.js';

export function shuffle<T>(a: T[], random: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
