// The on-device student: the teacher with its FFN hidden units pruned by weight magnitude
// (the report prunes the FFN dimension), then distilled; and copies of a decoder whose
// weights a variant replaces (palettized values, fp16 rounding).
import * as tf from '@tensorflow/tfjs';
import { createDecoder, type Decoder, type DecoderConfig } from '../../nn/decoder';
import { Rng } from '../../runtime/rng';
import { GROUP_COLUMNS } from '../../nn/palettize';

/** Hidden width after pruning, kept a multiple of the palette group (16 columns). */
export function prunedWidth(ffnHidden: number, ratio: number): number {
  return Math.max(GROUP_COLUMNS, Math.round((ffnHidden * (1 - ratio)) / GROUP_COLUMNS) * GROUP_COLUMNS);
}

/** Unit j's magnitude: ‖w1[:, j]‖ · ‖w3[:, j]‖ · ‖w2[j, :]‖ (gate, up and down paths). */
export function ffnUnitScores(w1: Float32Array, w3: Float32Array, w2: Float32Array, d: number, f: number): Float64Array {
  const s = new Float64Array(f);
  for (let j = 0; j < f; j++) {
    let a = 0, b = 0, c = 0;
    for (let i = 0; i < d; i++) { a += w1[i * f + j] ** 2; b += w3[i * f + j] ** 2; c += w2[j * d + i] ** 2; }
    s[j] = Math.sqrt(a * b * c);
  }
  return s;
}

/** The teacher with each layer's FFN cut to its `width` highest-scoring units (in their order). */
export function pruneFfn(teacher: Decoder, width: number): Decoder {
  const c = teacher.config, d = c.dModel, f = c.ffnHidden;
  const student = createDecoder({ ...c, ffnHidden: width }, new Rng(0));
  for (const [name, v] of Object.entries(teacher.weights)) if (!/\.w[123]$/.test(name)) student.weights[name].assign(v);
  for (let l = 0; l < c.layers; l++) {
    const w1 = teacher.weights[`l${l}.w1`].dataSync() as Float32Array, w3 = teacher.weights[`l${l}.w3`].dataSync() as Float32Array, w2 = teacher.weights[`l${l}.w2`].dataSync() as Float32Array;
    const scores = ffnUnitScores(w1, w3, w2, d, f);
    const keep = Array.from({ length: f }, (_, j) => j).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, width).sort((a, b) => a - b);
    const cols = (w: Float32Array) => { const o = new Float32Array(d * width); for (let i = 0; i < d; i++) keep.forEach((j, k) => { o[i * width + k] = w[i * f + j]; }); return o; };
    const rows = new Float32Array(width * d);
    keep.forEach((j, k) => rows.set(w2.subarray(j * d, (j + 1) * d), k * d));
    setWeight(student.weights[`l${l}.w1`], cols(w1));
    setWeight(student.weights[`l${l}.w3`], cols(w3));
    setWeight(student.weights[`l${l}.w2`], rows);
  }
  return student;
}

/** Overwrites a variable's values (same shape), without leaking the staging tensor. */
export function setWeight(v: tf.Variable, data: Float32Array): void {
  const t = tf.tensor(data, v.shape);
  v.assign(t);
  t.dispose();
}

/** A decoder with the same config and a copy of every weight. */
export function cloneDecoder(src: Decoder, config: DecoderConfig = src.config): Decoder {
  const out = createDecoder(config, new Rng(0));
  for (const [name, v] of Object.entries(src.weights)) out.weights[name].assign(v);
  return out;
}
