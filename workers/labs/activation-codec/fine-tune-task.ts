// The two fine-tunes of a run as tasks: the control (float activations) and the one with coded
// activations start from the same cached codec and see the same batches and noise, so they are
// independent: in the run's own thread one after another on one core, else side by side in
// worker threads. A thread loads its own copy of the codec; the control hands back its scores,
// the coded one its weights (the run then codes activations with them).
import * as tf from '@tensorflow/tfjs';
import type { ActivationCodecParams } from '../../../common/labs/activation-codec';
import type { CodecKey } from '../../shared-parts';
import { sharedPart } from '../../shared-parts';
import { codecVariables, disposeCodec, HIDDEN_LAYERS, type HiddenLayer, type ImageCodec } from '../../nn/image-codec';
import type { RunContext } from '../../runtime/context';
import { obtainPart } from '../../runtime/shared-parts';
import type { TaskIo } from '../../runtime/task-threads';
import { evaluateCodec } from '../../shared-parts/mse-codec';
import { createActEncoder, type ActEncoder } from './act-encoder';
import { fineTune } from './train';

export const codecKey = (p: ActivationCodecParams, lambda: number): CodecKey => (p.codecSize === 'tiny' ? `codec:${p.dataset}:${lambda}:tiny` as const : `codec:${p.dataset}:${lambda}` as const);
/** Images the codec's PSNR and bpp are measured on. */
export const evalCountOf = (p: ActivationCodecParams) => Math.min(p.evalImages, 10000);

export function makeEncoders(codec: ImageCodec, kind: ActivationCodecParams['transform']): Record<HiddenLayer, ActEncoder> {
  return Object.fromEntries(HIDDEN_LAYERS.map((l) => [l, createActEncoder(l, codec.shape.N, kind)])) as Record<HiddenLayer, ActEncoder>;
}

export function encoderTensors(encoders: Record<HiddenLayer, ActEncoder>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const e of Object.values(encoders)) { out[`${e.layer}.T`] = e.T; out[`${e.layer}.Tinv`] = e.Tinv; if (e.kind === 'full') { out[`${e.layer}.tb`] = e.tb; out[`${e.layer}.tinvb`] = e.tinvb; } }
  return out;
}

export interface FineTuneTaskInput { params: ActivationCodecParams; coded: boolean; home?: string }
export interface FineTuneTaskOutput {
  coded: boolean; steps: number; ms: number;
  /** The control's codec after its fine-tune. */
  control?: { psnrDb: number; bpp: number };
  /** The coded fine-tune's codec and encoder weights. */
  codecWeights?: Record<string, Float32Array>; encoderWeights?: Record<string, Float32Array>;
}

const arrays = (vars: Record<string, tf.Variable>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.dataSync() as Float32Array]));

/** Fine-tunes `codec` in place: the control (scores back) or with coded activations (`encoders` trained in place too). */
export async function runFineTune(p: ActivationCodecParams, codec: ImageCodec, encoders: Record<HiddenLayer, ActEncoder> | null, io: TaskIo): Promise<FineTuneTaskOutput> {
  const t = await fineTune(p, codec, encoders, io);
  if (encoders) return { coded: true, ...t };
  const ev = evaluateCodec(codec, p.dataset, evalCountOf(p));
  return { coded: false, ...t, control: { psnrDb: ev.psnrDb, bpp: ev.bpp } };
}

/** The thread task: its own codec from the cache (the run has loaded it once already, so it is there). */
export async function fineTuneTask(input: FineTuneTaskInput, io: TaskIo): Promise<FineTuneTaskOutput> {
  const p = input.params;
  const codec = await obtainPart(sharedPart(codecKey(p, p.lambda))!, io as RunContext, input.home) as ImageCodec;
  const encoders = input.coded ? makeEncoders(codec, p.transform) : null;
  try {
    const out = await runFineTune(p, codec, encoders, io);
    return encoders ? { ...out, codecWeights: arrays(codecVariables(codec)), encoderWeights: arrays(encoderTensors(encoders)) } : out;
  } finally {
    disposeCodec(codec);
    if (encoders) for (const e of Object.values(encoders)) for (const v of [e.T, e.tb, e.Tinv, e.tinvb]) v.dispose();
  }
}
