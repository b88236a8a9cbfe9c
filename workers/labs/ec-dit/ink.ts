// Adaptive compute: does expert choice spend more experts on the patches with more ink?
// Spearman's ρ between each patch's final ink and the experts that took it, per MoE block
// and sampling step.
import { spearman } from '../../runtime/stats';
import { tokensPerImage, type Dit } from '../../nn/dit';
import type { SampleResult } from '../../train/flow-sampling';

/** Ink of each patch (sum of pixel values) of each image: [B, N]. */
export function patchInk(images: Float32Array, B: number, image: number, patch: number): Float32Array {
  const side = image / patch, out = new Float32Array(B * side * side);
  for (let b = 0; b < B; b++) for (let r = 0; r < image; r++) for (let c = 0; c < image; c++) {
    out[b * side * side + Math.floor(r / patch) * side + Math.floor(c / patch)] += images[b * image * image + r * image + c];
  }
  return out;
}

/**
 * Mean over images of ρ(final patch ink, experts per patch) for each MoE block and step:
 * [layerIndex][step]. Images whose ink or counts are constant are skipped.
 */
export function inkExpertSpearman(m: Dit, result: SampleResult, B: number): { layers: number[]; rho: number[][] } {
  const N = tokensPerImage(m.config);
  const ink = patchInk(result.images, B, m.config.image, m.config.patch);
  const layers = result.frames[0]?.routing.map((r) => r.layer) ?? [];
  const rho = layers.map((_, li) => result.frames.map((f) => {
    let sum = 0, n = 0;
    for (let b = 0; b < B; b++) {
      const r = spearman(ink.subarray(b * N, (b + 1) * N), f.routing[li].expertsPerToken.subarray(b * N, (b + 1) * N));
      if (Number.isFinite(r)) { sum += r; n++; }
    }
    return n ? sum / n : NaN;
  }));
  return { layers, rho };
}
