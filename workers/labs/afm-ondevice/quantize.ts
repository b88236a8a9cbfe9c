// The palettized variants of the student: squared gradients on calibration batches (a
// Fisher diagonal) weigh each group's 2-bit and 4-bit error; the plan moves the groups
// with the least damage per bit saved to 2 bits until the target bits per weight; random
// placements at the same bits per weight are its control.
import * as tf from '@tensorflow/tfjs';
import { PROJECTIONS, type Decoder } from '../../nn/decoder';
import { dequantize, groupCount, groupErrors, palettize, planToTarget, sensitivityOrder, storageBits, type PalettizedMatrix, type PlanGroup } from '../../nn/palettize';
import { roundToFp16 } from '../../runtime/fp16';
import type { Rng } from '../../runtime/rng';
import { lmLoss } from '../../train/lm';
import { cloneDecoder, setWeight } from './student';

export const projectionNames = (d: Decoder) => Array.from({ length: d.config.layers }, (_, l) => PROJECTIONS.map((p) => `l${l}.${p}`)).flat();

/** Mean squared gradient of the label loss per projection weight, over calibration batches. */
export function fisherDiagonal(d: Decoder, batches: readonly number[][][]): Record<string, Float32Array> {
  const names = projectionNames(d);
  const acc: Record<string, Float32Array> = Object.fromEntries(names.map((n) => [n, new Float32Array(d.weights[n].size)]));
  for (const rows of batches) {
    const { value, grads } = tf.variableGrads(() => lmLoss(d, rows, { kind: 'label' }), names.map((n) => d.weights[n]));
    value.dispose();
    for (const n of names) {
      const g = grads[d.weights[n].name].dataSync();
      const a = acc[n];
      for (let i = 0; i < a.length; i++) a[i] += (g[i] * g[i]) / batches.length;
    }
    for (const g of Object.values(grads)) g.dispose();
  }
  return acc;
}

export interface PlanInputs { groups: PlanGroup[]; shapes: Record<string, [number, number]> }

/** Every column group of every projection with its estimated damage at 2 bits over 4 bits. */
export function planGroups(d: Decoder, fisher: Record<string, Float32Array>): PlanInputs {
  const groups: PlanGroup[] = [], shapes: Record<string, [number, number]> = {};
  for (const name of projectionNames(d)) {
    const [rows, cols] = d.weights[name].shape as [number, number];
    shapes[name] = [rows, cols];
    const { twoBit, fourBit } = groupErrors(d.weights[name].dataSync() as Float32Array, rows, cols, fisher[name]);
    for (let g = 0; g < groupCount(cols); g++) groups.push({ matrix: name, group: g, rows, damage: Math.max(0, twoBit[g] - fourBit[g]) });
  }
  return { groups, shapes };
}

export interface BitPlan { bits: Record<string, Uint8Array>; bpw: number }

export function fourBitPlan(p: PlanInputs): BitPlan {
  const bits = Object.fromEntries(Object.entries(p.shapes).map(([n, [, cols]]) => [n, new Uint8Array(groupCount(cols)).fill(4)]));
  return { bits, bpw: bitsPerWeight(p, bits) };
}

function planFrom(p: PlanInputs, order: readonly number[], target: number): BitPlan {
  const { twoBit, bpw } = planToTarget(p.groups, order, target);
  const plan = fourBitPlan(p);
  for (const i of twoBit) plan.bits[p.groups[i].matrix][p.groups[i].group] = 2;
  return { bits: plan.bits, bpw };
}

export const mixedPlan = (p: PlanInputs, target: number) => planFrom(p, sensitivityOrder(p.groups), target);
export const randomPlan = (p: PlanInputs, target: number, rng: Rng) => planFrom(p, Array.from(rng.permutation(p.groups.length)), target);

export function bitsPerWeight(p: PlanInputs, bits: Record<string, Uint8Array>): number {
  let total = 0, weights = 0;
  for (const [n, [rows, cols]] of Object.entries(p.shapes)) { total += storageBits({ rows, bits: bits[n] }); weights += rows * cols; }
  return total / weights;
}

export interface Variant { model: Decoder; palettes: Record<string, PalettizedMatrix>; bpw: number }

/**
 * The student with every projection palettized by the plan, and its embedding and norms
 * rounded to fp16 as the on-device file stores them.
 */
export function palettizedVariant(student: Decoder, p: PlanInputs, plan: BitPlan): Variant {
  const model = cloneDecoder(student);
  const palettes: Record<string, PalettizedMatrix> = {};
  for (const [name, v] of Object.entries(model.weights)) {
    if (p.shapes[name]) {
      const [rows, cols] = p.shapes[name];
      palettes[name] = palettize(v.dataSync() as Float32Array, rows, cols, plan.bits[name]);
      setWeight(v, dequantize(palettes[name]));
    } else setWeight(v, roundToFp16(v.dataSync()));
  }
  return { model, palettes, bpw: plan.bpw };
}

/** Share of each projection's weights at 2 bits, rows = layers, columns = PROJECTIONS. */
export function allocation(d: Decoder, plan: BitPlan): number[][] {
  return Array.from({ length: d.config.layers }, (_, l) => PROJECTIONS.map((pr) => {
    const b = plan.bits[`l${l}.${pr}`];
    return b.filter((x) => x === 2).length / b.length;
  }));
}

/** Bits per weight over the whole model: projections as planned, embedding and norms at 16 bits. */
export function bitsPerWeightAll(d: Decoder, p: PlanInputs, plan: BitPlan, extraFp16 = 0): number {
  let total = 0, weights = 0;
  for (const [n, v] of Object.entries(d.weights)) {
    if (p.shapes[n]) { total += storageBits({ rows: p.shapes[n][0], bits: plan.bits[n] }); } else total += 16 * v.size;
    weights += v.size;
  }
  return (total + 16 * extraFp16) / weights;
}
