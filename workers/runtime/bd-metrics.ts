// Bjøntegaard deltas between two rate–quality curves (VCEG-M33): the average vertical gap
// (BD-metric: BD-PSNR, BD-FD) and the average rate change at equal quality (BD-rate), each
// over the range both curves cover. The standard fit is a cubic polynomial in log-rate
// (least squares, as the public bjontegaard-metrics code computes it); 'pchip' and 'akima'
// interpolate the points piecewise instead (shape-preserving, no overshoot), as that code
// offers. For a metric where lower is better (a Fréchet distance) the delta keeps its sign:
// BD-FD = test − anchor, so a negative BD-FD means the test curve is better.

export type BdInterpolation = 'cubic' | 'pchip' | 'akima';
export interface RdPoint { rate: number; metric: number }

/** A function of x integrable exactly over [a, b]. */
interface Integrable { integral(a: number, b: number): number }

/** Least-squares polynomial of `degree` through (x, y), fitted on x scaled to [−1, 1] for conditioning. */
function polyFit(xs: number[], ys: number[], degree: number): Integrable {
  const lo = Math.min(...xs), hi = Math.max(...xs);
  const mid = (lo + hi) / 2, half = (hi - lo) / 2 || 1;
  const n = degree + 1;
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (let k = 0; k < xs.length; k++) {
    const s = (xs[k] - mid) / half;
    const pow = Array.from({ length: n }, (_, i) => s ** i);
    for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) a[i][j] += pow[i] * pow[j]; a[i][n] += pow[i] * ys[k]; }
  }
  // Gaussian elimination with partial pivoting on the normal equations.
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    if (Math.abs(a[c][c]) < 1e-300) throw new Error('BD fit: the rate points are not distinct enough for a cubic');
    for (let r = 0; r < n; r++) if (r !== c) { const f = a[r][c] / a[c][c]; for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k]; }
  }
  const coef = a.map((row, i) => row[n] / row[i]);
  const antiderivative = (x: number) => { const s = (x - mid) / half; return half * coef.reduce((acc, c, i) => acc + (c * s ** (i + 1)) / (i + 1), 0); };
  return { integral: (lo2, hi2) => antiderivative(hi2) - antiderivative(lo2) };
}

/** A piecewise cubic Hermite curve through (x, y) with slopes d at the knots, integrated exactly. */
function hermite(xs: number[], ys: number[], d: number[]): Integrable {
  const integrateSegment = (i: number, from: number, to: number) => {
    // On [x_i, x_{i+1}] with u = (x − x_i)/h: the Hermite basis integrated from u0 to u1.
    const h = xs[i + 1] - xs[i];
    const u0 = (from - xs[i]) / h, u1 = (to - xs[i]) / h;
    const H = (u: number) => {
      const u2 = u * u, u3 = u2 * u, u4 = u3 * u;
      const h00 = u4 / 2 - u3 + u, h10 = u4 / 4 - (2 * u3) / 3 + u2 / 2, h01 = -u4 / 2 + u3, h11 = u4 / 4 - u3 / 3;
      return h * (h00 * ys[i] + h10 * h * d[i] + h01 * ys[i + 1] + h11 * h * d[i + 1]);
    };
    return H(u1) - H(u0);
  };
  return {
    integral(a, b) {
      let total = 0;
      for (let i = 0; i < xs.length - 1; i++) {
        const from = Math.max(a, xs[i]), to = Math.min(b, xs[i + 1]);
        if (to > from) total += integrateSegment(i, from, to);
      }
      return total;
    },
  };
}

/** Secant slopes and widths of sorted points. */
const secants = (xs: number[], ys: number[]) => ({
  h: xs.slice(1).map((x, i) => x - xs[i]),
  m: xs.slice(1).map((x, i) => (ys[i + 1] - ys[i]) / (x - xs[i])),
});

/** PCHIP (Fritsch–Carlson) knot slopes: the weighted harmonic mean where neighbours agree in sign, else 0; three-point ends. */
export function pchipSlopes(xs: number[], ys: number[]): number[] {
  const { h, m } = secants(xs, ys);
  const n = xs.length;
  if (n === 2) return [m[0], m[0]];
  const d = new Array<number>(n).fill(0);
  for (let k = 1; k < n - 1; k++) {
    if (m[k - 1] * m[k] <= 0) continue;
    const w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1];
    d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k]);
  }
  const edge = (h0: number, h1: number, m0: number, m1: number) => {
    const e = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (Math.sign(e) !== Math.sign(m0)) return 0;
    if (Math.sign(m0) !== Math.sign(m1) && Math.abs(e) > 3 * Math.abs(m0)) return 3 * m0;
    return e;
  };
  d[0] = edge(h[0], h[1], m[0], m[1]);
  d[n - 1] = edge(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
  return d;
}

/** Akima's knot slopes (1970), the secants extended by two on each side as Akima does. */
export function akimaSlopes(xs: number[], ys: number[]): number[] {
  const { m } = secants(xs, ys);
  const n = xs.length;
  if (n === 2) return [m[0], m[0]];
  const last = m.length - 1;
  const ext = [3 * m[0] - 2 * m[1], 2 * m[0] - m[1], ...m, 2 * m[last] - m[last - 1], 3 * m[last] - 2 * m[last - 1]];
  const d = new Array<number>(n);
  const dm = ext.slice(1).map((v, i) => Math.abs(v - ext[i]));
  const scale = Math.max(...Array.from({ length: n }, (_, i) => dm[i + 2] + dm[i]));
  for (let i = 0; i < n; i++) {
    // Knot i sits between secants ext[i + 1] (left) and ext[i + 2] (right).
    const f1 = dm[i + 2], f2 = dm[i];
    const f12 = f1 + f2;
    d[i] = f12 > 1e-9 * scale ? (f1 * ext[i + 1] + f2 * ext[i + 2]) / f12 : (ext[i + 1] + ext[i + 2]) / 2;
  }
  return d;
}

function curve(xs: number[], ys: number[], how: BdInterpolation): Integrable {
  if (how === 'cubic') return polyFit(xs, ys, 3);
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const sx = order.map((i) => xs[i]), sy = order.map((i) => ys[i]);
  for (let i = 1; i < sx.length; i++) if (sx[i] === sx[i - 1]) throw new Error(`BD ${how}: two points share x = ${sx[i]}`);
  return hermite(sx, sy, how === 'pchip' ? pchipSlopes(sx, sy) : akimaSlopes(sx, sy));
}

function checkCurve(points: readonly RdPoint[], what: string, how: BdInterpolation): void {
  const need = how === 'cubic' ? 4 : 2;
  if (points.length < need) throw new Error(`BD: the ${what} curve has ${points.length} points; the ${how} fit needs at least ${need}`);
  for (const p of points) {
    if (!(p.rate > 0) || !Number.isFinite(p.rate)) throw new Error(`BD: the ${what} curve has a rate of ${p.rate} (rates must be positive and finite)`);
    if (!Number.isFinite(p.metric)) throw new Error(`BD: the ${what} curve has a metric of ${p.metric} (must be finite)`);
  }
}

/** The shared interval of two point sets' x, or an error when they do not overlap. */
function overlap(a: number[], b: number[], what: string): [number, number] {
  const lo = Math.max(Math.min(...a), Math.min(...b)), hi = Math.min(Math.max(...a), Math.max(...b));
  if (!(hi > lo)) throw new Error(`BD: the curves share no ${what} range`);
  return [lo, hi];
}

/**
 * BD-metric: the mean of (test − anchor) metric over the shared log-rate range, in the
 * metric's unit (BD-PSNR in dB; BD-FD in FD units, lower is better).
 */
export function bdMetric(anchor: readonly RdPoint[], test: readonly RdPoint[], how: BdInterpolation = 'cubic'): number {
  checkCurve(anchor, 'anchor', how); checkCurve(test, 'test', how);
  const la = anchor.map((p) => Math.log(p.rate)), lt = test.map((p) => Math.log(p.rate));
  const [lo, hi] = overlap(la, lt, 'rate');
  const ia = curve(la, anchor.map((p) => p.metric), how).integral(lo, hi);
  const it = curve(lt, test.map((p) => p.metric), how).integral(lo, hi);
  return (it - ia) / (hi - lo);
}

/**
 * BD-rate: the mean rate change of the test curve at equal metric, in percent (negative:
 * the test curve needs fewer bits), over the shared metric range. For a lower-is-better
 * metric the same formula holds: equal metric is equal metric.
 */
export function bdRate(anchor: readonly RdPoint[], test: readonly RdPoint[], how: BdInterpolation = 'cubic'): number {
  checkCurve(anchor, 'anchor', how); checkCurve(test, 'test', how);
  const ma = anchor.map((p) => p.metric), mt = test.map((p) => p.metric);
  const [lo, hi] = overlap(ma, mt, 'metric');
  const ia = curve(ma, anchor.map((p) => Math.log(p.rate)), how).integral(lo, hi);
  const it = curve(mt, test.map((p) => Math.log(p.rate)), how).integral(lo, hi);
  return (Math.exp((it - ia) / (hi - lo)) - 1) * 100;
}
