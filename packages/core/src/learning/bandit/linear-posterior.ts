/**
 * Bayesian linear regression for one arm of a contextual bandit: reward ~ N(theta·z, sigma^2), prior
 * theta ~ N(theta0, sigma^2/w0 · I). Keeps the precision matrix A and vector b (A theta_hat = b); small dimensions only
 * (explicit Cholesky). Used for Thompson sampling: `sample` draws theta from the posterior.
 */
export class LinearPosterior {
  readonly dim: number;
  readonly A: Float64Array;
  readonly b: Float64Array;
  observations = 0;
  /** Cholesky factor and mean, recomputed after an update (ranking is far more frequent than updates). */
  private chol: Float64Array | undefined;
  private mu: Float64Array | undefined;

  constructor(prior: readonly number[], priorWeight: number) {
    this.dim = prior.length;
    this.A = new Float64Array(this.dim * this.dim);
    this.b = new Float64Array(this.dim);
    for (let i = 0; i < this.dim; i++) {
      this.A[i * this.dim + i] = priorWeight;
      this.b[i] = priorWeight * prior[i]!;
    }
  }

  /**
   * The posterior of `base`'s observations plus `layer`'s (precision and vector added; `layer` is typically made
   * with prior weight 0: observations only). A new posterior: neither input changes.
   */
  static sum(base: LinearPosterior, layer: LinearPosterior): LinearPosterior {
    const out = new LinearPosterior(new Array<number>(base.dim).fill(0), 0);
    for (let i = 0; i < base.A.length; i++) out.A[i] = base.A[i]! + layer.A[i]!;
    for (let i = 0; i < base.dim; i++) out.b[i] = base.b[i]! + layer.b[i]!;
    out.observations = base.observations + layer.observations;
    return out;
  }

  /** Adds one observation `reward` at context `z`, with weight `w` (1 = a full observation; negative removes one). */
  update(z: ArrayLike<number>, reward: number, w = 1): void {
    const d = this.dim;
    for (let i = 0; i < d; i++) {
      this.b[i]! += w * reward * z[i]!;
      for (let j = 0; j < d; j++) this.A[i * d + j]! += w * z[i]! * z[j]!;
    }
    this.observations += w;
    this.chol = undefined;
    this.mu = undefined;
  }

  /** Lower-triangular Cholesky factor of A (cached until the next update). */
  private cholesky(): Float64Array {
    if (this.chol) return this.chol;
    const d = this.dim, L = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let s = this.A[i * d + j]!;
        for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
        L[i * d + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * d + j]!;
      }
    }
    this.chol = L;
    return L;
  }

  /** Posterior mean theta_hat = A^-1 b (a copy). */
  mean(): Float64Array {
    return this.meanFrom(this.cholesky()).slice();
  }

  /** The cached posterior mean (do not modify). */
  private meanFrom(L: Float64Array): Float64Array {
    if (this.mu) return this.mu;
    const d = this.dim;
    const y = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = this.b[i]!;
      for (let k = 0; k < i; k++) s -= L[i * d + k]! * y[k]!;
      y[i] = s / L[i * d + i]!;
    }
    const x = new Float64Array(d);
    for (let i = d - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * x[k]!;
      x[i] = s / L[i * d + i]!;
    }
    this.mu = x;
    return x;
  }

  /** A draw theta ~ N(theta_hat, scale² A^-1), from standard normals `gauss()`. */
  sample(scale: number, gauss: () => number): Float64Array {
    const d = this.dim, L = this.cholesky();
    const mu = this.meanFrom(L).slice();
    // theta = theta_hat + scale · L^-T eps  (covariance A^-1 = L^-T L^-1)
    const e = new Float64Array(d);
    for (let i = 0; i < d; i++) e[i] = gauss();
    const x = new Float64Array(d);
    for (let i = d - 1; i >= 0; i--) {
      let s = e[i]!;
      for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * x[k]!;
      x[i] = s / L[i * d + i]!;
    }
    for (let i = 0; i < d; i++) mu[i]! += scale * x[i]!;
    return mu;
  }
}
