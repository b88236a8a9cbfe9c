// The DiT's onnxruntime export against the TF.js forward it mirrors, on the same random
// weights and inputs: dense, expert-choice and token-choice blocks in one model; routing
// selections identical for ≥ 99.9 % of (token, expert) pairs and velocities within 1e-4
// on every image whose tokens were all routed alike.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createDit, ditVariables, disposeDit, tokensPerImage, type DitConfig } from '../workers/nn/dit';
import { onnxVelocity } from '../workers/nn/dit-onnx';
import { sampleImages, tfjsVelocity } from '../workers/train/flow-sampling';
import { contextTokens } from '../workers/data/class-condition';
import { CONTEXT_VOCAB } from '../workers/data/class-condition';
import type { RoutingTrace } from '../workers/nn/moe';

const config = (tcCapacityFactor: number): DitConfig => ({
  image: 28, patch: 4, dModel: 32, heads: 4, layers: 4, contextVocab: CONTEXT_VOCAB, ffn: ['dense', 'ec', 'dense', 'tc'], ffnHidden: [64, 64, 64, 64],
  experts: 4, expertHidden: 32, capacityFactor: 2, tcCapacityFactor,
});

/** Every weight drawn afresh (the zero-initialised gates and output layer would make v ≡ 0). */
function randomDit(c: DitConfig, seed: number) {
  const m = createDit(c, new Rng(seed)), rng = new Rng(seed + 1);
  for (const v of Object.values(ditVariables(m))) {
    const fanIn = v.shape.length > 1 ? v.shape[v.shape.length - 2] : 16;
    v.assign(tf.tensor(rng.normalArray(v.size, 1.2 / Math.sqrt(fanIn)), v.shape));
  }
  return m;
}

/** (token, expert) pairs as a set of keys. */
const pairs = (r: RoutingTrace) => new Set(r.expertTokens.flatMap((list, e) => list.map((s) => s * r.experts + e)));

describe('DiT on onnxruntime', () => {
  for (const tcFactor of [1.25, 0.5]) {
    it(`the exported forward equals TF.js: routing and velocity (token-choice capacity factor ${tcFactor}${tcFactor < 1 ? ', tokens dropped' : ''})`, async () => {
      await initBackend('wasm');
      const c = config(tcFactor), m = randomDit(c, 7), B = 6, N = tokensPerImage(c);
      const rng = new Rng(8);
      const x = Float32Array.from(rng.normalArray(B * 784)), t = Float32Array.from({ length: B }, () => rng.next());
      const context = contextTokens('mnist', [0, 3, -1, 7, 9, -1]);
      const ort = await onnxVelocity(m, 1);
      try {
        const [a, b] = [await tfjsVelocity(m)(x, t, context, true), await ort.field(x, t, context, true)];
        const imageAgrees = new Array<boolean>(B).fill(true);
        for (const layer of [1, 3]) {
          const ra = a.routing[layer], rb = b.routing[layer];
          expect(rb.kind).toBe(c.ffn[layer]);
          expect(rb.capacity).toBe(ra.capacity);
          expect(rb.droppedAssignments).toBe(ra.droppedAssignments);
          if (tcFactor < 1 && layer === 3) expect(ra.droppedAssignments).toBeGreaterThan(0);
          const pa = pairs(ra), pb = pairs(rb);
          let same = 0;
          for (const k of pa) if (pb.has(k)) same++;
          expect(same / pa.size).toBeGreaterThanOrEqual(0.999);
          for (let s = 0; s < B * N; s++) {
            for (let e = 0; e < c.experts; e++) if (pa.has(s * c.experts + e) !== pb.has(s * c.experts + e)) imageAgrees[Math.floor(s / N)] = false;
            for (let e = 0; e < c.experts; e++) expect(Math.abs(ra.probs[s * c.experts + e] - rb.probs[s * c.experts + e])).toBeLessThan(1e-5);
          }
        }
        expect(imageAgrees.filter(Boolean).length).toBeGreaterThanOrEqual(B - 1);
        let maxV = 0;
        for (let i = 0; i < B * 784; i++) maxV = Math.max(maxV, Math.abs(a.v[i]));
        expect(maxV).toBeGreaterThan(0.5); // a velocity worth comparing
        for (let img = 0; img < B; img++) {
          if (!imageAgrees[img]) continue;
          for (let i = img * 784; i < (img + 1) * 784; i++) expect(Math.abs(a.v[i] - b.v[i])).toBeLessThan(1e-4);
        }
      } finally {
        await ort.release();
        disposeDit(m);
      }
    });
  }

  it('sampling through either field gives the same images from the same noise', async () => {
    await initBackend('wasm');
    const c = config(1.25), m = randomDit(c, 11);
    const ort = await onnxVelocity(m, 1);
    try {
      const labels = [1, 2, 3, 4];
      const a = await sampleImages(tfjsVelocity(m), 'mnist', labels, 3, 2, new Rng(5), { trace: true });
      const b = await sampleImages(ort.field, 'mnist', labels, 3, 2, new Rng(5), { trace: true });
      expect(b.frames).toHaveLength(3);
      let maxDiff = 0;
      for (let i = 0; i < a.images.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.images[i] - b.images[i]));
      expect(maxDiff).toBeLessThan(1e-3);
      expect(b.frames[2].routing.map((r) => r.layer)).toEqual([1, 3]);
    } finally {
      await ort.release();
      disposeDit(m);
    }
  });
});
