// The shared decoder: its forward pass equals a slow plain-JS reference (GQA, RoPE,
// QK-norm, SwiGLU, tied embeddings, sliding window); the KV cache reproduces the full
// forward; masks are causal and windowed; LoRA starts as a no-op and equals merged weights;
// log-probs are hand-checkable; sampling obeys temperature / top-k / top-p; it trains.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import {
  addLora, attentionMask, mergeLora, createDecoder, decoderForward, disposeCache, disposeDecoder, embedTokens, pickToken, sampleTokens, tokenLogProbs, type Decoder, type DecoderConfig,
} from '../workers/nn/decoder';

const base: DecoderConfig = { vocab: 11, dModel: 16, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 24, maxLen: 32, qkNorm: true, window: null, ropeBase: 10000 };

type Mat = number[][];
const matmul = (a: Mat, w: Float32Array, cols: number): Mat => a.map((row) => Array.from({ length: cols }, (_, j) => row.reduce((s, x, i) => s + x * w[i * cols + j], 0)));
const rms = (v: number[], g: ArrayLike<number>) => { const r = 1 / Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length + 1e-6); return v.map((x, i) => x * r * g[i]); };

/** The decoder written out position by position, head by head: no shared code with decoder.ts. */
function referenceForward(d: Decoder, x: Mat): Mat {
  const c = d.config, hd = c.dModel / c.heads, G = c.heads / c.kvHeads, T = x.length;
  const W = (n: string) => d.weights[n].dataSync() as Float32Array;
  const rot = (v: number[], p: number) => {
    const half = hd / 2, out = v.slice();
    for (let i = 0; i < half; i++) {
      const a = p / c.ropeBase ** ((2 * i) / hd);
      out[i] = v[i] * Math.cos(a) - v[i + half] * Math.sin(a);
      out[i + half] = v[i] * Math.sin(a) + v[i + half] * Math.cos(a);
    }
    return out;
  };
  let h = x.map((r) => r.slice());
  for (let l = 0; l < c.layers; l++) {
    const a = h.map((r) => rms(r, W(`l${l}.attn_norm`)));
    const q = matmul(a, W(`l${l}.wq`), c.heads * hd), k = matmul(a, W(`l${l}.wk`), c.kvHeads * hd), v = matmul(a, W(`l${l}.wv`), c.kvHeads * hd);
    const ctx: Mat = Array.from({ length: T }, () => new Array(c.heads * hd).fill(0));
    for (let head = 0; head < c.heads; head++) {
      const kvh = Math.floor(head / G);
      const qh = (t: number) => { let r = q[t].slice(head * hd, (head + 1) * hd); if (c.qkNorm) r = rms(r, W(`l${l}.q_norm`)); return rot(r, t); };
      const kh = (t: number) => { let r = k[t].slice(kvh * hd, (kvh + 1) * hd); if (c.qkNorm) r = rms(r, W(`l${l}.k_norm`)); return rot(r, t); };
      for (let t = 0; t < T; t++) {
        const allowed = Array.from({ length: T }, (_, s) => s <= t && (c.window === null || t - s < c.window));
        const qt = qh(t);
        const scores = allowed.map((ok, s) => (ok ? kh(s).reduce((acc, kv, i) => acc + kv * qt[i], 0) / Math.sqrt(hd) : -Infinity));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((s2, x2) => s2 + x2, 0);
        for (let s = 0; s < T; s++) for (let i = 0; i < hd; i++) ctx[t][head * hd + i] += (e[s] / z) * v[s][kvh * hd + i];
      }
    }
    const o = matmul(ctx, W(`l${l}.wo`), c.dModel);
    h = h.map((r, t) => r.map((x2, i) => x2 + o[t][i]));
    const f = h.map((r) => rms(r, W(`l${l}.ffn_norm`)));
    const g = matmul(f, W(`l${l}.w1`), c.ffnHidden), u = matmul(f, W(`l${l}.w3`), c.ffnHidden);
    const act = g.map((r, t) => r.map((x2, i) => (x2 / (1 + Math.exp(-x2))) * u[t][i]));
    const down = matmul(act, W(`l${l}.w2`), c.dModel);
    h = h.map((r, t) => r.map((x2, i) => x2 + down[t][i]));
  }
  const E = d.weights.embed.dataSync() as Float32Array;
  return h.map((r) => rms(r, W('final_norm'))).map((r) => Array.from({ length: c.vocab }, (_, vtok) => r.reduce((s, x2, i) => s + x2 * E[vtok * c.dModel + i], 0)));
}

function perturbNorms(d: Decoder, rng: Rng) {
  // Gains start at 1; move them so the test sees that each one is used where it should be.
  for (const [name, w] of Object.entries(d.weights)) if (name.endsWith('norm')) w.assign(tf.tensor(Array.from({ length: w.size }, () => 1 + 0.3 * rng.normal()), w.shape));
}

const logitsOf = (d: Decoder, tokens: number[]) => tf.tidy(() => {
  const { logits } = decoderForward(d, embedTokens(d, tf.tensor2d([tokens], [1, tokens.length], 'int32')));
  return logits.arraySync()[0];
});

describe('decoder (shared transformer)', () => {
  it('equals a slow reference: GQA, RoPE, QK-norm, SwiGLU, tied embeddings; full causal and sliding window', async () => {
    await initBackend('wasm');
    for (const cfg of [base, { ...base, window: 3 }, { ...base, kvHeads: 1, qkNorm: false }, { ...base, kvHeads: 4 }]) {
      const rng = new Rng(5);
      const d = createDecoder(cfg, rng);
      perturbNorms(d, rng);
      const tokens = [1, 4, 2, 9, 0, 3, 3, 7];
      const E = d.weights.embed.arraySync() as Mat;
      const want = referenceForward(d, tokens.map((t) => E[t]));
      const got = logitsOf(d, tokens);
      for (let t = 0; t < tokens.length; t++) for (let v = 0; v < cfg.vocab; v++) expect(got[t][v]).toBeCloseTo(want[t][v], 4);
      disposeDecoder(d);
    }
  });

  it('masks: causal, and a window of w sees exactly the last w positions', () => {
    const m = attentionMask(4, 2, 3); // queries at positions 2..5 over keys 0..5
    const allowed = Array.from({ length: 4 }, (_, q) => Array.from({ length: 6 }, (_, k) => (m[q * 6 + k] === 0 ? 1 : 0)).join(''));
    expect(allowed).toEqual(['111000', '011100', '001110', '000111']);
    expect(Array.from(attentionMask(3, 0, null)).map((x) => (x === 0 ? 1 : 0)).join('')).toBe('100110111');
  });

  it('a later token never changes earlier logits; with a window, tokens beyond it do not either', async () => {
    await initBackend('wasm');
    const d = createDecoder({ ...base, window: 2, layers: 1 }, new Rng(3));
    const a = logitsOf(d, [1, 2, 3, 4, 5]), b = logitsOf(d, [1, 2, 3, 4, 6]), c = logitsOf(d, [9, 2, 3, 4, 5]);
    for (let t = 0; t < 4; t++) expect(b[t]).toEqual(a[t]);
    // one layer, window 2: position 4 sees positions 3 and 4 only
    for (let v = 0; v < base.vocab; v++) expect(c[4][v]).toBeCloseTo(a[4][v], 5);
    expect(Math.abs(c[0][0] - a[0][0])).toBeGreaterThan(1e-4);
    disposeDecoder(d);
  });

  it('left padding: each row of a padded batch equals the row alone; the last hidden state gives the logits', async () => {
    await initBackend('wasm');
    const d = createDecoder(base, new Rng(12));
    perturbNorms(d, new Rng(13));
    const rows = [[1, 4, 2, 9, 0, 3], [5, 6, 7], [2, 2, 8, 1]];
    const T = 6, pads = rows.map((r) => T - r.length);
    const batch = rows.map((r, b) => [...new Array<number>(pads[b]).fill(10), ...r]); // token 10 as padding
    const run = (padStart?: number[]) => tf.tidy(() => {
      const { logits, hidden } = decoderForward(d, embedTokens(d, tf.tensor2d(batch, [3, T], 'int32')), { padStart });
      const viaHidden = tf.matMul(hidden.reshape([3 * T, base.dModel]) as tf.Tensor2D, d.weights.embed as tf.Tensor2D, false, true).reshape([3, T, base.vocab]);
      return { logits: logits.arraySync(), viaHidden: viaHidden.arraySync() as number[][][] };
    });
    const masked = run(pads), unmasked = run();
    for (let b = 0; b < rows.length; b++) {
      const alone = logitsOf(d, rows[b]);
      for (let t = 0; t < rows[b].length; t++) {
        for (let v = 0; v < base.vocab; v++) {
          expect(masked.logits[b][pads[b] + t][v]).toBeCloseTo(alone[t][v], 4);
          expect(masked.viaHidden[b][pads[b] + t][v]).toBeCloseTo(masked.logits[b][pads[b] + t][v], 4);
        }
      }
    }
    // Without the mask the padding is read: the short rows' last logits move.
    expect(Math.abs(unmasked.logits[1][T - 1][0] - masked.logits[1][T - 1][0])).toBeGreaterThan(1e-3);
    expect(() => tf.tidy(() => { decoderForward(d, embedTokens(d, tf.tensor2d(batch, [3, T], 'int32')), { padStart: [0, 6, 0] }); })).toThrow(/row 1: 6 padding positions/);
    disposeDecoder(d);
  });

  it('the KV cache reproduces the full forward, one token at a time', async () => {
    await initBackend('wasm');
    for (const cfg of [base, { ...base, window: 3 }]) {
      const d = createDecoder(cfg, new Rng(8));
      const tokens = [3, 1, 4, 1, 5, 9, 2, 6];
      const full = logitsOf(d, tokens);
      const before = tf.memory().numTensors;
      // tidy frees the intermediates; the logits and the cache (kept by decoderForward) survive.
      const kept = (f: () => ReturnType<typeof decoderForward>) => { let r!: ReturnType<typeof decoderForward>; tf.tidy(() => { r = f(); tf.keep(r.logits); }); return r; };
      let { logits, cache } = kept(() => decoderForward(d, embedTokens(d, tf.tensor2d([tokens.slice(0, 3)], [1, 3], 'int32')), { returnCache: true }));
      const steps: number[][] = (logits.arraySync() as number[][][])[0];
      logits.dispose();
      for (let t = 3; t < tokens.length; t++) {
        const prev = cache!;
        ({ logits, cache } = kept(() => decoderForward(d, embedTokens(d, tf.tensor2d([[tokens[t]]], [1, 1], 'int32')), { cache: prev })));
        disposeCache(prev);
        steps.push((logits.arraySync() as number[][][])[0][0]);
        logits.dispose();
      }
      disposeCache(cache!);
      expect(tf.memory().numTensors).toBe(before);
      for (let t = 0; t < tokens.length; t++) for (let v = 0; v < cfg.vocab; v++) expect(steps[t][v]).toBeCloseTo(full[t][v], 4);
      disposeDecoder(d);
    }
  });

  it('LoRA: zero-initialized B leaves the model unchanged; then it equals W + scale·A·B merged, and mergeLora folds it in', async () => {
    await initBackend('wasm');
    const d = createDecoder(base, new Rng(4));
    const tokens = [2, 7, 1, 8];
    const plain = logitsOf(d, tokens);
    const adapters = addLora(d, ['wq', 'wv', 'w2'], 2, 4, new Rng(9));
    expect(adapters).toHaveLength(6);
    expect(logitsOf(d, tokens)).toEqual(plain);
    for (const a of adapters) a.B.assign(tf.randomNormal(a.B.shape, 0, 0.3, 'float32', 1));
    const withLora = logitsOf(d, tokens);
    const merged = createDecoder(base, new Rng(4));
    for (const [name, a] of Object.entries(d.lora)) merged.weights[name].assign(tf.tidy(() => merged.weights[name].add(tf.matMul(a.A, a.B).mul(a.scale))));
    const m = logitsOf(merged, tokens);
    for (let t = 0; t < tokens.length; t++) for (let v = 0; v < base.vocab; v++) expect(withLora[t][v]).toBeCloseTo(m[t][v], 4);
    expect(Math.abs(withLora[0][0] - plain[0][0])).toBeGreaterThan(1e-4);
    // mergeLora does the same in place: no adapters left, the same logits, the adapters' tensors freed.
    const before = tf.memory().numTensors;
    mergeLora(d);
    expect(d.lora).toEqual({});
    expect(tf.memory().numTensors).toBe(before - 2 * adapters.length);
    const folded = logitsOf(d, tokens);
    for (let t = 0; t < tokens.length; t++) for (let v = 0; v < base.vocab; v++) expect(folded[t][v]).toBeCloseTo(m[t][v], 4);
    disposeDecoder(d); disposeDecoder(merged);
  });

  it('tokenLogProbs equals a hand-computed log-softmax', async () => {
    await initBackend('wasm');
    const lp = tf.tidy(() => tokenLogProbs(tf.tensor3d([[[0, Math.log(3)], [2, 2]]]), tf.tensor2d([[1, 0]], [1, 2], 'int32')).arraySync());
    expect(lp[0][0]).toBeCloseTo(Math.log(3 / 4), 6);
    expect(lp[0][1]).toBeCloseTo(Math.log(1 / 2), 6);
  });

  it('pickToken: greedy at T=0 and top-k=1; top-p keeps the smallest set; frequencies follow the softmax', () => {
    const logits = Float32Array.from([0, Math.log(2), Math.log(5), Math.log(2)]); // p = .1 .2 .5 .2
    const rng = new Rng(11);
    expect(pickToken(logits, { temperature: 0, topK: 0, topP: 1, rng }).token).toBe(2);
    expect(pickToken(logits, { temperature: 0, topK: 0, topP: 1, rng }).logProb).toBeCloseTo(Math.log(0.5), 6);
    for (let i = 0; i < 50; i++) expect(pickToken(logits, { temperature: 1, topK: 1, topP: 1, rng }).token).toBe(2);
    // top-p 0.6: {2 (.5), 1 (.2)} reaches .7; ties broken by the lower index
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(pickToken(logits, { temperature: 1, topK: 0, topP: 0.6, rng }).token);
    expect([...seen].sort()).toEqual([1, 2]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[pickToken(logits, { temperature: 1, topK: 0, topP: 1, rng }).token]++;
    [0.1, 0.2, 0.5, 0.2].forEach((p, t) => expect(Math.abs(counts[t] / 20000 - p)).toBeLessThan(0.015));
  });

  it('sampling with and without the KV cache gives the same tokens and log-probs; no tensor leaks', async () => {
    await initBackend('wasm');
    const d = createDecoder(base, new Rng(6));
    const prompt = tf.tidy(() => embedTokens(d, tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32')));
    const before = tf.memory().numTensors;
    const a = sampleTokens(d, prompt, { maxNewTokens: 10, temperature: 1, topK: 0, topP: 1, stopToken: 0, rng: new Rng(1) });
    const b = sampleTokens(d, prompt, { maxNewTokens: 10, temperature: 1, topK: 0, topP: 1, stopToken: 0, rng: new Rng(1), useCache: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.tokens).toEqual(b.tokens);
    a.logProbs.flat().forEach((lp, i) => expect(lp).toBeCloseTo(b.logProbs.flat()[i], 4));
    for (const row of a.tokens) { expect(row.length).toBeGreaterThan(0); expect(row.length).toBeLessThanOrEqual(10); if (row.length < 10) expect(row.at(-1)).toBe(0); }
    prompt.dispose(); disposeDecoder(d);
  });

  it('noRepeat: greedy decoding never picks a token its row already generated (the stop token excepted), and otherwise picks as plain greedy', async () => {
    await initBackend('wasm');
    const d = createDecoder(base, new Rng(6));
    const prompt = tf.tidy(() => embedTokens(d, tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32')));
    const o = { maxNewTokens: 10, temperature: 0, topK: 0, topP: 1, rng: new Rng(1) };
    const plain = sampleTokens(d, prompt, o), banned = sampleTokens(d, prompt, { ...o, noRepeat: true });
    // A random model's greedy rows repeat (the constraint has something to do), the constrained ones never.
    expect(plain.tokens.some((row) => new Set(row).size < row.length)).toBe(true);
    for (const row of banned.tokens) expect(new Set(row).size).toBe(row.length);
    // Up to the first repeat, both pick the same tokens.
    banned.tokens.forEach((row, b) => {
      const first = plain.tokens[b].findIndex((t, i) => plain.tokens[b].indexOf(t) < i);
      expect(row.slice(0, first)).toEqual(plain.tokens[b].slice(0, first));
    });
    const withStop = sampleTokens(d, prompt, { ...o, noRepeat: true, stopToken: plain.tokens[0][0] });
    expect(withStop.tokens[0]).toEqual([plain.tokens[0][0]]);
    prompt.dispose(); disposeDecoder(d);
  });

  it('trains: 150 Adam steps learn to repeat the token two places back (every weight gets a gradient)', async () => {
    await initBackend('wasm');
    const d = createDecoder({ ...base, layers: 2 }, new Rng(2));
    const rng = new Rng(3);
    const opt = tf.train.adam(0.01);
    const vars = Object.values(d.weights);
    const lossAt = (seqs: number[][]) => () => tf.tidy(() => {
      const x = tf.tensor2d(seqs.map((s) => s.slice(0, -1)), undefined, 'int32'), y = tf.tensor2d(seqs.map((s) => s.slice(1)), undefined, 'int32');
      return tokenLogProbs(decoderForward(d, embedTokens(d, x)).logits, y).mean().neg() as tf.Scalar;
    });
    // target: each token repeats the one two places back (needs attention, not just the current token)
    const batch = () => Array.from({ length: 16 }, () => { const s = [rng.int(10), rng.int(10)]; for (let i = 2; i < 12; i++) s.push(s[i - 2]); return s; });
    const grads = tf.tidy(() => tf.variableGrads(lossAt(batch()) as () => tf.Scalar, vars).grads);
    for (const [i, g] of Object.values(grads).entries()) expect(g.abs().sum().dataSync()[0], Object.keys(d.weights)[i]).toBeGreaterThan(0);
    tf.dispose(Object.values(grads));
    let first = 0, last = 0;
    for (let s = 0; s < 150; s++) {
      const l = opt.minimize(lossAt(batch()), true, vars)!;
      if (s === 0) first = l.dataSync()[0];
      last = l.dataSync()[0];
      l.dispose();
    }
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(1.3); // the first two tokens are random: log 10 over 2 of 11 positions ≈ 0.42
    opt.dispose(); disposeDecoder(d);
  });
});
