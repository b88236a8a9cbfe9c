// The three DiTs of the lab from its params: expert choice, token choice or dense at the MoE blocks.
import type { DitModelName, EcDitParams } from '../../../common/labs/ec-dit';
import { createDit, type Dit, type DitConfig, type FfnKind } from '../../nn/dit';
import { CONTEXT_VOCAB } from '../../data/class-condition';
import type { Rng } from '../../runtime/rng';

/** The dense model's MoE-position FFN: f_c experts wide, plus the router's d·E multiply-adds (d·E / 2d hidden units). */
export function denseAtMoeHidden(p: EcDitParams) { return Math.round(p.capacityFactor * p.expertHidden + p.experts / 2); }

/** Blocks 1, 3, … (0-based; the paper's "every other layer") hold the MoE; the dense model has an FFN there as wide as f_c experts plus the router's compute. */
export function ditConfig(p: EcDitParams, model: DitModelName): DitConfig {
  const moeKind: FfnKind = model === 'dense' ? 'dense' : model;
  const atMoe = (i: number) => i % 2 === 1;
  return {
    image: 28, patch: 4, dModel: p.dModel, heads: p.heads, layers: p.layers, contextVocab: CONTEXT_VOCAB,
    ffn: Array.from({ length: p.layers }, (_, i) => (atMoe(i) ? moeKind : 'dense')),
    ffnHidden: Array.from({ length: p.layers }, (_, i) => (atMoe(i) ? denseAtMoeHidden(p) : 4 * p.dModel)),
    experts: p.experts, expertHidden: p.expertHidden, capacityFactor: p.capacityFactor, tcCapacityFactor: p.tcCapacityFactor,
  };
}

export const buildDit = (p: EcDitParams, model: DitModelName, rng: Rng): Dit => createDit(ditConfig(p, model), rng);
