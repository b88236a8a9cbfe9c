// The fine-tune: the encoders' 1x1 transforms train, and the codec's weights too unless
// `trainCodec` is off (then the PSNR drop is purely the cost of coding activations), with
// the paper's loss
// λ·255²·MSE + bpp + β·bits_act/(B·H·W), bits_act from the driving coder's estimate.
import * as tf from '@tensorflow/tfjs';
import type { ActivationCodecParams } from '../../../common/labs/activation-codec';
import type { RunContext } from '../../runtime/context';
import { batchFloats, loadDataset } from '../../runtime/datasets';
import { codecLoss, codecVariables, type HiddenLayer, type ImageCodec } from '../../nn/image-codec';
import { applyEncoder, bitsEstimate, encoderVariables, type ActEncoder } from './act-encoder';

export async function fineTune(p: ActivationCodecParams, codec: ImageCodec, encoders: Record<HiddenLayer, ActEncoder>, ctx: RunContext): Promise<{ steps: number; ms: number }> {
  if (p.fineTuneSteps === 0) return { steps: 0, ms: 0 };
  const ds = loadDataset(p.dataset);
  const rng = ctx.rng.fork('finetune');
  const opt = tf.train.adam(p.learningRate);
  const vars = [...Object.values(encoders).flatMap(encoderVariables), ...(p.trainCodec ? Object.values(codecVariables(codec)) : [])];
  const pixels = p.batchSize * 784;
  let ms = 0;
  try {
    for (let step = 1; step <= p.fineTuneSteps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const idx = Array.from({ length: p.batchSize }, () => rng.int(ds.train.count));
      const { x } = batchFloats(ds.train, idx);
      const noiseSeed = rng.nextU32();
      const out = tf.tidy(() => {
        const xs = tf.tensor2d(x, [p.batchSize, 784]);
        const noise = tf.randomUniform([p.batchSize, 7, 7, codec.shape.M], -0.5, 0.5, 'float32', noiseSeed);
        let report = { loss: 0, mse: 0, bpp: 0, actBits: 0, activations: 0 };
        opt.minimize(() => {
          const bits: tf.Scalar[] = [];
          let activations = 0;
          const hook = (layer: HiddenLayer, a: tf.Tensor4D) => {
            const { out: o, z } = applyEncoder(encoders[layer], a, p.bitDepth);
            bits.push(bitsEstimate(p.fineTuneCoder, z.q, p.bitDepth));
            activations += a.size;
            return o;
          };
          const t = codecLoss(codec, xs, p.lambda, noise, hook);
          const actBits = tf.addN(bits) as tf.Scalar;
          const loss = t.loss.add(actBits.mul(p.beta / pixels)) as tf.Scalar;
          report = { loss: loss.dataSync()[0], mse: t.mse.dataSync()[0], bpp: t.bpp.dataSync()[0], actBits: actBits.dataSync()[0], activations };
          return loss;
        }, false, vars);
        return report;
      });
      ms += performance.now() - t0;
      if (step % 10 === 0 || step === p.fineTuneSteps) {
        ctx.metric(step, 'finetune.loss', out.loss);
        ctx.metric(step, 'finetune.psnrDb', 10 * Math.log10(1 / out.mse));
        ctx.metric(step, `finetune.bitsPerActivation_${p.fineTuneCoder}`, out.actBits / out.activations);
        ctx.progress('fine-tune transforms', step, p.fineTuneSteps);
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    opt.dispose();
  }
  return { steps: p.fineTuneSteps, ms };
}
