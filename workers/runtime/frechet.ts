// Fréchet distance between two Gaussians fitted to feature sets (the FID formula):
//   |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}).
// Tr((S_a S_b)^{1/2}) = Tr((A S_b A)^{1/2}) with A = S_a^{1/2}, which is symmetric PSD, so
// both roots come from a symmetric eigendecomposition (cyclic Jacobi, float64).

/** Eigenvalues and eigenvectors (columns of V) of a symmetric d x d matrix. */
export function symmetricEigen(m: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) {
      const apq = a[p * d + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < d; k++) { // rotate columns p, q
        const akp = a[k * d + p], akq = a[k * d + q];
        a[k * d + p] = c * akp - s * akq; a[k * d + q] = s * akp + c * akq;
      }
      for (let k = 0; k < d; k++) { // rotate rows p, q
        const apk = a[p * d + k], aqk = a[q * d + k];
        a[p * d + k] = c * apk - s * aqk; a[q * d + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < d; k++) {
        const vkp = v[k * d + p], vkq = v[k * d + q];
        v[k * d + p] = c * vkp - s * vkq; v[k * d + q] = s * vkp + c * vkq;
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

function sqrtPsd(m: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] += vectors[i * d + k] * s * vectors[j * d + k];
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const aik = a[i * d + k];
    for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
  }
  return out;
}

/** Mean and (unbiased) covariance of n rows of d features. */
export function gaussianFit(feats: ArrayLike<number>, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  if (n < 2) throw new Error('need at least 2 feature rows for a covariance');
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += feats[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
    const xj = feats[i * d + j] - mean[j];
    for (let k = j; k < d; k++) cov[j * d + k] += (xj * (feats[i * d + k] - mean[k])) / (n - 1);
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) cov[j * d + k] = cov[k * d + j];
  return { mean, cov };
}

export function frechetFromStats(a: { mean: Float64Array; cov: Float64Array }, b: { mean: Float64Array; cov: Float64Array }, d: number): number {
  let meanTerm = 0, trace = 0;
  for (let j = 0; j < d; j++) { meanTerm += (a.mean[j] - b.mean[j]) ** 2; trace += a.cov[j * d + j] + b.cov[j * d + j]; }
  const rootA = sqrtPsd(a.cov, d);
  const inner = matmul(matmul(rootA, b.cov, d), rootA, d);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) { const s = (inner[i * d + j] + inner[j * d + i]) / 2; inner[i * d + j] = s; inner[j * d + i] = s; }
  const { values } = symmetricEigen(inner, d);
  let trRoot = 0;
  for (const v of values) trRoot += Math.sqrt(Math.max(v, 0));
  return meanTerm + trace - 2 * trRoot;
}

/** Fréchet distance between two feature sets given as n x d row-major arrays. */
export function frechetDistance(featsA: ArrayLike<number>, nA: number, featsB: ArrayLike<number>, nB: number, d: number): number {
  return frechetFromStats(gaussianFit(featsA, nA, d), gaussianFit(featsB, nB, d), d);
}

/**
 * A fixed reference set's statistics with its covariance root computed once: the Fréchet
 * distance of many sets (bootstrap resamples) to it costs one eigendecomposition each.
 */
export function frechetReference(feats: ArrayLike<number>, n: number, d: number): { distanceTo(featsB: ArrayLike<number>, nB: number): number } {
  const ref = gaussianFit(feats, n, d);
  const rootRef = sqrtPsd(ref.cov, d);
  return {
    distanceTo(featsB, nB) {
      const b = gaussianFit(featsB, nB, d);
      let meanTerm = 0, trace = 0;
      for (let j = 0; j < d; j++) { meanTerm += (ref.mean[j] - b.mean[j]) ** 2; trace += ref.cov[j * d + j] + b.cov[j * d + j]; }
      const inner = matmul(matmul(rootRef, b.cov, d), rootRef, d);
      for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) { const s = (inner[i * d + j] + inner[j * d + i]) / 2; inner[i * d + j] = s; inner[j * d + i] = s; }
      let trRoot = 0;
      for (const v of symmetricEigen(inner, d).values) trRoot += Math.sqrt(Math.max(v, 0));
      return meanTerm + trace - 2 * trRoot;
    },
  };
}
