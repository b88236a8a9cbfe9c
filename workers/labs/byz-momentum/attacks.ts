// What f omniscient Byzantine workers send, computed from the honest workers' vectors of
// the round (sign flip and label flip need the Byzantine worker's own honest computation,
// so the worker loop applies them). ALIE's z follows Baruch et al. 2019 as the paper's
// code does: s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − f − s)/(n − f)).
import { mean, type Vec } from './aggregators';

/** Φ⁻¹: the standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile needs 0 < p < 1, not ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) { const q = Math.sqrt(-2 * Math.log(p)); x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1); }
  else if (p > 1 - lo) { const q = Math.sqrt(-2 * Math.log(1 - p)); x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1); }
  else { const q = p - 0.5, r = q * q; x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1); }
  return x;
}

export function alieZ(n: number, f: number): number {
  const s = Math.floor(n / 2 + 1) - f;
  return normalQuantile((n - f - s) / (n - f));
}

/** A little is enough: honest mean − z · honest (unbiased) standard deviation, per coordinate. */
export function alie(honest: readonly Vec[], z: number): Vec {
  const mu = mean(honest), d = mu.length, h = honest.length, out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let v = 0;
    for (const x of honest) v += (x[i] - mu[i]) ** 2;
    out[i] = mu[i] - z * Math.sqrt(h > 1 ? v / (h - 1) : 0);
  }
  return out;
}

/** Inner-product manipulation (Xie et al. 2020): −ε · honest mean. */
export function ipm(honest: readonly Vec[], epsilon: number): Vec {
  return mean(honest).map((v) => -epsilon * v);
}
