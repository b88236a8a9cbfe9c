// Expert-choice and token-choice MoE against slow plain-JS loops: exact capacities, the
// per-token expert counts, outputs, gradients reaching the router, ties to the lowest
// index, token-choice drops and its balancing loss by hand; and the DiT's shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createMoe, ecCapacity, expertChoiceMoe, tcCapacity, tokenChoiceMoe, topTokensPerExpert, type MoeWeights, type RoutingTrace } from '../workers/nn/moe';
import { createDit, ditForward, disposeDit, patchify, unpatchify, type DitConfig } from '../workers/nn/dit';

beforeAll(async () => { await initBackend('wasm'); });

const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const geluJs = (x: number) => x / (1 + Math.exp(-1.702 * x));

/** FFN_e(x) in plain JS from the stacked weights. */
function expertJs(w: MoeWeights, e: number, x: number[]): number[] {
  const [, d, h] = w.experts.w1.shape;
  const w1 = arr(w.experts.w1), b1 = arr(w.experts.b1), w2 = arr(w.experts.w2), b2 = arr(w.experts.b2);
  const hid = Array.from({ length: h }, (_, j) => geluJs(x.reduce((s, xi, i) => s + xi * w1[(e * d + i) * h + j], b1[e * h + j])));
  return Array.from({ length: d }, (_, o) => hid.reduce((s, hj, j) => s + hj * w2[(e * h + j) * d + o], b2[e * d + o]));
}

function routerProbsJs(w: MoeWeights, xs: number[][]): number[][] {
  const r = arr(w.router), E = w.router.shape[1] as number;
  return xs.map((x) => {
    const l = Array.from({ length: E }, (_, e) => x.reduce((s: number, xi: number, i: number) => s + xi * r[i * E + e], 0));
    const m = Math.max(...l), ex = l.map((v) => Math.exp(v - m)), z = ex.reduce((a, b) => a + b, 0);
    return ex.map((v) => v / z);
  });
}

describe('expert-choice MoE', () => {
  it('each expert takes exactly C = floor(S·f_c/E) tokens; counts sum to E·C; output equals a slow loop', () => {
    const rng = new Rng(4), S = 37, d = 6, E = 4, fc = 2;
    const w = createMoe(E, d, 5, rng);
    const xs = Array.from({ length: S }, () => Array.from(rng.normalArray(d, 1)));
    const x = tf.tensor2d(xs.flat(), [S, d]);
    const { y, trace } = expertChoiceMoe(x, w, fc);
    const C = ecCapacity(S, E, fc);
    expect(C).toBe(18);
    expect(trace.expertTokens.map((l) => l.length)).toEqual([C, C, C, C]);
    expect(trace.expertTokens.every((l) => new Set(l).size === l.length)).toBe(true);
    expect(Array.from(trace.expertsPerToken).reduce((a, b) => a + b, 0)).toBe(E * C);
    // Slow reference: every expert ranks all tokens by its column, keeps the top C.
    const P = routerProbsJs(w, xs);
    const ref = xs.map(() => new Array(d).fill(0));
    for (let e = 0; e < E; e++) {
      const ranked = xs.map((_, s) => s).sort((a, b) => P[b][e] - P[a][e] || a - b).slice(0, C);
      expect([...ranked].sort((a, b) => a - b)).toEqual([...trace.expertTokens[e]].sort((a, b) => a - b));
      for (const s of ranked) expertJs(w, e, xs[s]).forEach((v, o) => { ref[s][o] += P[s][e] * v; });
    }
    const got = arr(y);
    ref.flat().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    tf.dispose([x, y]);
  });

  it('ties go to the lower token index', () => {
    const probs = Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.2, 0.8]); // S = 3, E = 2
    expect(topTokensPerExpert(probs, 3, 2, 2)).toEqual([[0, 1], [2, 0]]);
  });

  it('gradients reach the router and every expert through the gates', () => {
    const rng = new Rng(5), S = 16, d = 4, E = 4;
    const w = createMoe(E, d, 3, rng);
    const x = tf.tensor2d(rng.normalArray(S * d, 1), [S, d]);
    const { grads, value } = tf.variableGrads(() => expertChoiceMoe(x, w, 2).y.square().sum() as tf.Scalar, [w.router, w.experts.w1]);
    expect(Math.abs(arr(grads[w.router.name]).reduce((s, g) => s + Math.abs(g), 0))).toBeGreaterThan(1e-4);
    // Finite difference on one router weight matches the analytic gradient.
    const g = arr(grads[w.router.name])[3], eps = 1e-2;
    const at = (delta: number) => {
      const r = arr(w.router); r[3] += delta;
      return tf.tidy(() => {
        const saved = w.router.clone();
        w.router.assign(tf.tensor(r, w.router.shape));
        const v = expertChoiceMoe(x, w, 2).y.square().sum().dataSync()[0];
        w.router.assign(saved);
        return v;
      });
    };
    expect((at(eps) - at(-eps)) / (2 * eps)).toBeCloseTo(g, 1);
    tf.dispose([x, value, ...Object.values(grads)]);
  });
});

describe('token-choice top-2 MoE', () => {
  it('first choices before second choices, capacity floor(1.25·2S/E), drops counted, gates renormalised, aux loss by hand', () => {
    const rng = new Rng(6), S = 20, d = 5, E = 4, factor = 1.25;
    const w = createMoe(E, d, 4, rng);
    // Push most tokens to expert 0 so it overflows.
    w.router.assign(tf.tensor2d(Array.from({ length: d * E }, (_, i) => (i % E === 0 ? 2 : 0) + 0.1 * Math.sin(i)), [d, E]));
    const xs = Array.from({ length: S }, () => Array.from(rng.normalArray(d, 1), (v) => Math.abs(v)));
    const x = tf.tensor2d(xs.flat(), [S, d]);
    const { y, auxLoss, trace } = tokenChoiceMoe(x, w, factor);
    const C = tcCapacity(S, E, 2, factor);
    expect(C).toBe(12);
    const P = routerProbsJs(w, xs);
    const top2 = P.map((p) => { const o = p.map((_, e) => e).sort((a, b) => p[b] - p[a] || a - b); return [o[0], o[1]]; });
    const lists: number[][] = Array.from({ length: E }, () => []);
    let dropped = 0;
    for (const r of [0, 1]) for (let s = 0; s < S; s++) { const e = top2[s][r]; if (lists[e].length < C) lists[e].push(s); else dropped++; }
    expect(trace.expertTokens).toEqual(lists);
    expect(trace.droppedAssignments).toBe(dropped);
    expect(dropped).toBeGreaterThan(0);
    const ref = xs.map(() => new Array(d).fill(0));
    lists.forEach((l, e) => l.forEach((s) => { const [a, b] = top2[s]; const g = P[s][e] / (P[s][a] + P[s][b]); expertJs(w, e, xs[s]).forEach((v, o) => { ref[s][o] += g * v; }); }));
    const got = arr(y);
    ref.flat().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    const f = new Array(E).fill(0), Pm = new Array(E).fill(0);
    top2.forEach(([a]) => { f[a] += 1 / S; });
    P.forEach((p) => p.forEach((v, e) => { Pm[e] += v / S; }));
    expect(auxLoss.dataSync()[0]).toBeCloseTo(E * f.reduce((s, fe, e) => s + fe * Pm[e], 0), 5);
    tf.dispose([x, y, auxLoss]);
  });
});

describe('DiT', () => {
  const config: DitConfig = { image: 28, patch: 4, dModel: 16, heads: 2, layers: 2, contextVocab: 12, ffn: ['dense', 'ec'], ffnHidden: [32, 32], experts: 4, expertHidden: 8, capacityFactor: 2, tcCapacityFactor: 1.25 };

  it('patchify and unpatchify are inverses, patches are 4x4 squares in row-major order', () => {
    const x = tf.tensor2d(Array.from({ length: 2 * 784 }, (_, i) => i), [2, 784]);
    const p = patchify(x, 28, 4);
    expect(p.shape).toEqual([2, 49, 16]);
    expect(arr(p).slice(16, 20)).toEqual([4, 5, 6, 7]); // patch 1 = columns 4..7 of row 0
    expect(arr(p).slice(7 * 16, 7 * 16 + 4)).toEqual([112, 113, 114, 115]); // patch 7 = rows 4.., columns 0..3
    expect(arr(unpatchify(p, 28, 4))).toEqual(arr(x));
    tf.dispose([x, p]);
  });

  it('forward gives a velocity per pixel and routes the whole batch as one group (C = floor(B·49·f_c/E))', () => {
    const m = createDit(config, new Rng(1));
    const B = 3, before = tf.memory().numTensors;
    let routing: Record<number, RoutingTrace> = {};
    const v = tf.tidy(() => { const r = ditForward(m, tf.randomNormal([B, 784]) as tf.Tensor2D, [0.1, 0.5, 0.9], Int32Array.from([1, 2, 1, 3, 0, 0]), 2, { trace: true }); routing = r.routing; return r.v; });
    expect(v.shape).toEqual([B, 784]);
    expect(routing[1].capacity).toBe(Math.floor((B * 49 * 2) / 4));
    expect(routing[1].expertTokens.every((l) => l.length === routing[1].capacity)).toBe(true);
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeDit(m);
  });
});
