// Training-step times on the chosen backend: an MLP and a transformer block, the two
// cases the wasm kernel fixes were measured on. Run once with fixes and once without.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';

function timeSteps(step: () => void, reps: number): number {
  step(); step(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) step();
  return (performance.now() - t0) / reps;
}

export async function kernelBench() {
  const backend = await initBackend();
  const rng = new Rng(1);
  const v = (shape: number[], std = 0.05) => tf.variable(tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape));
  const opt = tf.train.sgd(0.01);

  // MLP 784-256-10, batch 128
  const w1 = v([784, 256]), w2 = v([256, 10]);
  const x = tf.tensor2d(rng.normalArray(128 * 784), [128, 784]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 128 }, (_, i) => i % 10), 'int32'), 10);
  const mlp = timeSteps(() => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.relu(x.matMul(w1)).matMul(w2)) as tf.Scalar); }), 20);

  // One pre-norm transformer block, d=128, seq 64, batch 16, 4 heads
  const d = 128, T = 64, B = 16, H = 4, dh = d / H;
  const wq = v([d, d]), wk = v([d, d]), wv = v([d, d]), wo = v([d, d]), f1 = v([d, 4 * d]), f2 = v([4 * d, d]);
  const xs = tf.tensor3d(rng.normalArray(B * T * d), [B, T, d]);
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9);
  const heads = (t: tf.Tensor) => t.reshape([B, T, H, dh]).transpose([0, 2, 1, 3]);
  const block = () => tf.tidy(() => {
    opt.minimize(() => {
      const flat = xs.reshape([B * T, d]);
      const q = heads(flat.matMul(wq)), k = heads(flat.matMul(wk)), vv = heads(flat.matMul(wv));
      const att = tf.softmax(q.matMul(k, false, true).div(Math.sqrt(dh)).add(mask));
      const o = att.matMul(vv).transpose([0, 2, 1, 3]).reshape([B * T, d]).matMul(wo).add(flat);
      return tf.relu(o.matMul(f1)).matMul(f2).add(o).square().mean() as tf.Scalar;
    });
  });
  const transformer = timeSteps(block, 5);
  tf.dispose([w1, w2, x, y, wq, wk, wv, wo, f1, f2, xs, mask]);
  return { backend: backend.name, kernelFixes: backend.kernelFixes.length > 0, mlpStepMs: mlp, transformerBlockStepMs: transformer };
}

if (require.main === module) kernelBench().then((r) => { process.stdout.write(JSON.stringify(r) + '\n'); });
