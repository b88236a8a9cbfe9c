// The fine-tune: the encoders' 1x1 transforms train, and the codec's weights too unless
// `trainCodec` is off (then the PSNR drop is purely the cost of coding activations), with
// the paper's loss
// λ·255²·MSE + bpp + β·bits_act/(B·H·W), bits_act from the driving coder's estimate.
import * as tf from '@tensorflow/tfjs';
import type { ActivationCodecParams } from '../../../common/labs/activation-codec';
import type { TaskIo } from '../../runtime/task-threads';
import { Rng } from '../../runtime/rng';
import { cosineDecay, setLearningRate } from '../../runtime/schedule';
import { batchFloats, loadDataset } from '../../runtime/datasets';
import { codecLoss, codecVariables, type HiddenLayer, type ImageCodec } from '../../nn/image-codec';
import { applyEncoder, bitsEstimate, encoderVariables, type ActEncoder } from './act-encoder';

/**
 * Fine-tunes with coded activations; with `encoders` null it is the control: the same steps,
 * loss, data order and noise without any activation coding (bits term zero), so that the
 * PSNR "without activation compression" has had the same extra training.
 */
export const FINE_TUNE_PHASE = 'fine-tune with coded activations';
export const CONTROL_FINE_TUNE_PHASE = 'control fine-tune (float activations)';

export async function fineTune(p: ActivationCodecParams, codec: ImageCodec, encoders: Record<HiddenLayer, ActEncoder> | null, ctx: TaskIo): Promise<{ steps: number; ms: number }> {
  if (p.fineTuneSteps === 0) return { steps: 0, ms: 0 };
  const phase = encoders ? FINE_TUNE_PHASE : CONTROL_FINE_TUNE_PHASE;
  const tag = encoders ? 'finetune' : 'control';
  const ds = loadDataset(p.dataset);
  // A fresh stream from the seed: the control and the real fine-tune see the same batches and noise.
  const rng = new Rng(p.seed).fork('finetune');
  const opt = tf.train.adam(p.learningRate);
  const vars = [...(encoders ? Object.values(encoders).flatMap(encoderVariables) : []), ...(p.trainCodec ? Object.values(codecVariables(codec)) : [])];
  if (!vars.length) return { steps: 0, ms: 0 };
  const pixels = p.batchSize * 784;
  let ms = 0;
  try {
    for (let step = 1; step <= p.fineTuneSteps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const idx = Array.from({ length: p.batchSize }, () => rng.int(ds.train.count));
      const { x } = batchFloats(ds.train, idx);
      const noiseSeed = rng.nextU32();
      // Cosine decay: the network settles on a rate instead of hopping around it.
      setLearningRate(opt, p.learningRate * cosineDecay(step, p.fineTuneSteps));
      const out = tf.tidy(() => {
        const xs = tf.tensor2d(x, [p.batchSize, 784]);
        const noise = tf.randomUniform([p.batchSize, 7, 7, codec.shape.M], -0.5, 0.5, 'float32', noiseSeed);
        let report = { loss: 0, mse: 0, bpp: 0, actBits: 0, activations: 0 };
        opt.minimize(() => {
          const bits: tf.Scalar[] = [];
          let activations = 0;
          const hook = (layer: HiddenLayer, a: tf.Tensor4D) => {
            activations += a.size;
            if (!encoders) return a;
            const { out: o, z } = applyEncoder(encoders[layer], a, p.bitDepth);
            bits.push(bitsEstimate(p.fineTuneCoder, z.q, p.bitDepth));
            return o;
          };
          const t = codecLoss(codec, xs, p.lambda, noise, hook);
          const actBits = (bits.length ? tf.addN(bits) : tf.scalar(0)) as tf.Scalar;
          const loss = t.loss.add(actBits.mul(p.beta / pixels)) as tf.Scalar;
          report = { loss: loss.dataSync()[0], mse: t.mse.dataSync()[0], bpp: t.bpp.dataSync()[0], actBits: actBits.dataSync()[0], activations };
          return loss;
        }, false, vars);
        return report;
      });
      ms += performance.now() - t0;
      if (step % 10 === 0 || step === p.fineTuneSteps) {
        ctx.metric(step, `${tag}.loss`, out.loss);
        ctx.metric(step, `${tag}.psnrDb`, 10 * Math.log10(1 / out.mse));
        if (encoders) ctx.metric(step, `finetune.bitsPerActivation_${p.fineTuneCoder}`, out.actBits / out.activations);
        ctx.progress(phase, step, p.fineTuneSteps);
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    opt.dispose();
  }
  return { steps: p.fineTuneSteps, ms };
}
