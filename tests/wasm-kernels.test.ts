// Every wasm kernel fix gives the cpu backend's result; one training step of each shared
// block (embedding, attention, conv, transposed conv, MoE dispatch) matches on both.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';

const rng = new Rng(11);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => { const r = fn(); return Array.isArray(r) ? r : [r]; });
  const data = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return data;
}

async function same(fn: () => tf.Tensor | tf.Tensor[], tol = 1e-4) {
  const a = await on('cpu', fn), b = await on('wasm', fn);
  expect(b.length).toBe(a.length);
  a.forEach((arr, i) => {
    expect(b[i].length).toBe(arr.length);
    let worst = 0, scale = 1e-6;
    for (let j = 0; j < arr.length; j++) { worst = Math.max(worst, Math.abs(arr[j] - b[i][j])); scale = Math.max(scale, Math.abs(arr[j])); }
    expect(worst / scale, `output ${i}: max abs diff ${worst} at scale ${scale}`).toBeLessThan(tol);
  });
}

beforeAll(async () => { await initBackend('wasm'); });

describe('wasm kernel fixes equal cpu', () => {
  it('BatchMatMul with every transpose combination, 2-D and batched', async () => {
    const a = rand(3 * 5 * 7), b = rand(3 * 7 * 4);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      await same(() => tf.matMul(tf.tensor3d(a, ta ? [3, 7, 5] : [3, 5, 7]), tf.tensor3d(b, tb ? [3, 4, 7] : [3, 7, 4]), ta, tb));
      await same(() => tf.matMul(tf.tensor2d(a.subarray(0, 35), ta ? [7, 5] : [5, 7]), tf.tensor2d(b.subarray(0, 28), tb ? [4, 7] : [7, 4]), ta, tb));
    }
  });
  it('BatchMatMul of large batches (split into plain products), every transpose combination, 4-D too', async () => {
    const a = rand(3 * 70 * 40), b = rand(3 * 40 * 50);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      await same(() => tf.matMul(tf.tensor3d(a, ta ? [3, 40, 70] : [3, 70, 40]), tf.tensor3d(b, tb ? [3, 50, 40] : [3, 40, 50]), ta, tb));
    }
    await same(() => tf.matMul(tf.tensor4d(a, [1, 3, 70, 40]), tf.tensor4d(b, [1, 3, 40, 50])));
    await same(() => tf.matMul(tf.tensor3d(a.subarray(0, 70 * 40), [1, 70, 40]), tf.tensor3d(b, [3, 40, 50]))); // broadcast: not split
  });
  it('_FusedMatMul with bias and relu, transposed operands', async () => {
    const a = rand(6 * 8), b = rand(8 * 3), bias = rand(3);
    await same(() => tf.fused.matMul({ a: tf.tensor2d(a, [8, 6]), b: tf.tensor2d(b, [3, 8]), transposeA: true, transposeB: true, bias: tf.tensor1d(bias), activation: 'relu' }));
  });
  it('Conv2DBackpropFilter: stride 1 and 2, same and valid (tfjs has no dilated conv gradient)', async () => {
    const x = rand(2 * 9 * 9 * 3), w0 = rand(3 * 3 * 3 * 4);
    for (const [stride, pad, dil] of [[1, 'same', 1], [2, 'same', 1], [2, 'valid', 1], [1, 'valid', 1]] as const) {
      await same(() => {
        const w = tf.tensor4d(w0, [3, 3, 3, 4]);
        return tf.grad((f: tf.Tensor) => tf.conv2d(tf.tensor4d(x, [2, 9, 9, 3]), f as tf.Tensor4D, stride, pad, 'NHWC', dil).square().sum())(w);
      });
    }
  });
  it('Conv2DBackpropInput and conv2dTranspose at stride 2', async () => {
    const x = rand(2 * 8 * 8 * 3), w = rand(3 * 3 * 3 * 5);
    for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
      await same(() => tf.grad((xi: tf.Tensor) => tf.conv2d(xi as tf.Tensor4D, tf.tensor4d(w, [3, 3, 3, 5]), stride, pad).square().sum())(tf.tensor4d(x, [2, 8, 8, 3])));
    }
    const y = rand(2 * 4 * 4 * 5);
    await same(() => tf.conv2dTranspose(tf.tensor4d(y, [2, 4, 4, 5]), tf.tensor4d(w, [3, 3, 3, 5]), [2, 8, 8, 3], 2, 'same'));
  });
  it('UnsortedSegmentSum, including repeated and out-of-range-free ids', async () => {
    const x = rand(6 * 4);
    await same(() => tf.unsortedSegmentSum(tf.tensor2d(x, [6, 4]), tf.tensor1d([2, 0, 2, 1, 0, 2], 'int32'), 4));
  });
  it('GatherV2 of rows (2-D and 3-D tables, 2-D ids, int32 values) and along other axes', async () => {
    const t = rand(10 * 6), c = rand(4 * 3 * 5);
    await same(() => tf.gather(tf.tensor2d(t, [10, 6]), tf.tensor1d([9, 0, 3, 3, 7], 'int32')));
    await same(() => tf.gather(tf.tensor3d(c, [4, 3, 5]), tf.tensor2d([[3, 1], [0, 0], [2, 3]], [3, 2], 'int32')));
    await same(() => tf.gather(tf.tensor2d(Int32Array.from({ length: 12 }, (_, i) => i * 7 - 20), [4, 3], 'int32'), tf.tensor1d([2, 0], 'int32')).toFloat());
    await same(() => tf.gather(tf.tensor3d(c, [4, 3, 5]), tf.tensor1d([4, 0, 2], 'int32'), 2));
    expect(() => tf.gather(tf.tensor2d(t, [10, 6]), tf.tensor1d([10], 'int32'))).toThrow(/index 10 is not in \[0, 9\]/);
  });
  it('LogicalAnd broadcast both ways and at equal shapes', async () => {
    const bits = (n: number) => Array.from({ length: n }, () => rng.next() < 0.5);
    const [p, q, r] = [bits(6), bits(6 * 4), bits(4)];
    await same(() => tf.logicalAnd(tf.tensor2d(p, [6, 1], 'bool'), tf.tensor2d(q, [6, 4], 'bool')).toFloat());
    await same(() => tf.logicalAnd(tf.tensor2d(q, [6, 4], 'bool'), tf.tensor1d(r, 'bool')).toFloat());
    await same(() => tf.logicalAnd(tf.tensor3d(p, [1, 6, 1], 'bool'), tf.tensor2d(r, [1, 4], 'bool')).toFloat());
    await same(() => tf.logicalAnd(tf.tensor2d(q, [6, 4], 'bool'), tf.tensor2d(q.map((v) => !v), [6, 4], 'bool')).toFloat());
  });
  it('the gradient of gather (embeddings) trains on wasm', async () => {
    const table = rand(10 * 6);
    await same(() => tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d([1, 3, 3, 9, 0], 'int32')).mul(tf.range(0, 30).reshape([5, 6])).sum())(tf.tensor2d(table, [10, 6])));
  });
});

describe('one training step of each shared block matches cpu', () => {
  const seqLen = 6, d = 8, vocab = 12;
  const ids = [1, 4, 4, 7, 11, 0];
  it('embedding + causal self-attention', async () => {
    const emb = rand(vocab * d), wq = rand(d * d), wk = rand(d * d), wv = rand(d * d);
    await same(() => {
      const mask = tf.linalg.bandPart(tf.ones([seqLen, seqLen]), -1, 0).sub(1).mul(1e9);
      const f = (table: tf.Tensor, q0: tf.Tensor, k0: tf.Tensor, v0: tf.Tensor) => {
        const x = tf.gather(table, tf.tensor1d(ids, 'int32'));
        const q = x.matMul(q0), k = x.matMul(k0), v = x.matMul(v0);
        const att = tf.softmax(q.matMul(k, false, true).div(Math.sqrt(d)).add(mask));
        return att.matMul(v).square().mean();
      };
      return tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([tf.tensor2d(emb, [vocab, d]), tf.tensor2d(wq, [d, d]), tf.tensor2d(wk, [d, d]), tf.tensor2d(wv, [d, d])]);
    });
  });
  it('conv + transposed conv (an autoencoder step)', async () => {
    const img = rand(2 * 8 * 8 * 1), w1 = rand(3 * 3 * 1 * 4), w2 = rand(3 * 3 * 1 * 4);
    await same(() => {
      const x = tf.tensor4d(img, [2, 8, 8, 1]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(tf.relu(tf.conv2d(x, a as tf.Tensor4D, 2, 'same')), b as tf.Tensor4D, [2, 8, 8, 1], 2, 'same').sub(x).square().mean();
      return tf.grads(f)([tf.tensor4d(w1, [3, 3, 1, 4]), tf.tensor4d(w2, [3, 3, 1, 4])]);
    });
  });
  it('MoE dispatch: expert-choice top-C by one-hot matmul, gathered and scattered back', async () => {
    const S = 10, E = 3, C = 4, x = rand(S * d), wr = rand(d * E), we = rand(E * d * d);
    await same(() => {
      const run = (xs: tf.Tensor, router: tf.Tensor, experts: tf.Tensor) => {
        const probs = tf.softmax(xs.matMul(router), -1); // [S, E]
        // [E, C] tokens each expert chose; the choice is discrete, so it is cut from the tape.
        const indices = tf.tensor2d(tf.topk(probs.transpose(), C).indices.arraySync() as number[][], [E, C], 'int32');
        const dispatch = tf.oneHot(indices.reshape([-1]), S).reshape([E, C, S]).cast('float32'); // [E, C, S]
        const gates = dispatch.mul(probs.transpose().expandDims(1)).sum(-1); // [E, C]
        const tokens = dispatch.matMul(tf.tile(xs.expandDims(0), [E, 1, 1])); // [E, C, d]
        const out = tokens.matMul(experts.reshape([E, d, d])).mul(gates.expandDims(-1)); // [E, C, d]
        return dispatch.transpose([0, 2, 1]).matMul(out).sum(0).square().mean(); // scatter back to [S, d]
      };
      return tf.grads(run)([tf.tensor2d(x, [S, d]), tf.tensor2d(wr, [d, E]), tf.tensor1d(we)]);
    });
  });
});
