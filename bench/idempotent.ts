// idempotent-codec's costs: perceptual decode seconds per image against the sampling steps
// (DSG, and DPS at the paper's 1,000), on the full prior when it is cached (else the tiny one,
// labelled), and the JPEG / WebP / AVIF anchors' images/s through libvips.
import { initBackend } from '../workers/runtime/backend';
import { obtainPart, partCached } from '../workers/runtime/shared-parts';
import { codecPart, TINY_CODEC } from '../workers/shared-parts/mse-codec';
import { priorPart, TINY_PRIOR } from '../workers/shared-parts/prior';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import type { RunContext } from '../workers/runtime/context';
import { encodeImages, perceptualDecode } from '../workers/labs/idempotent-codec/decode';
import { ANCHOR_FORMATS, ANCHOR_QUALITIES, anchorPoint } from '../workers/coding/anchors';

export async function idempotentBench() {
  const backend = await initBackend();
  const ctx = { rng: new Rng(0), progress: () => {}, metric: () => {}, log: () => {}, emit: () => {}, throwIfCancelled: () => {} } as unknown as RunContext;
  const full = partCached(priorPart('mnist')) && partCached(codecPart('mnist', 0.001));
  const prior = await obtainPart(full ? priorPart('mnist') : priorPart('mnist', TINY_PRIOR, ':tiny'), ctx);
  const codec = await obtainPart(full ? codecPart('mnist', 0.001) : codecPart('mnist', 0.001, TINY_CODEC, ':tiny'), ctx);
  const test = loadDataset('mnist').test;
  const batch = 8;
  const { x } = batchFloats(test, Array.from({ length: batch }, (_, i) => i));
  const bits = encodeImages(codec, x, batch);
  const streams = () => Array.from({ length: batch }, (_, i) => new Rng(1).fork(`bench/${i}`));
  const time = (f: () => void) => { const t0 = performance.now(); f(); return (performance.now() - t0) / 1000 / batch; };
  const dsg = [10, 25, 50, 100].map((steps) => ({ steps, secPerImage: time(() => perceptualDecode(prior, codec, bits.latents, streams(), { guidance: { kind: 'dsg', rate: 0.1 }, steps, batch })) }));
  const dps = [100, 1000].map((steps) => ({ steps, secPerImage: time(() => perceptualDecode(prior, codec, bits.latents, streams(), { guidance: { kind: 'dps', zeta: 0.6 }, steps, batch })) }));
  const n = 100;
  const digits = batchFloats(test, Array.from({ length: n }, (_, i) => i)).x;
  const anchors = [];
  for (const format of ANCHOR_FORMATS) {
    const q = ANCHOR_QUALITIES[format][3];
    const t0 = performance.now();
    const pt = await anchorPoint(format, digits, n, q);
    anchors.push({ format, quality: q, bpp: pt.bpp, roundTripImagesPerSec: n / ((performance.now() - t0) / 1000), encodeImagesPerSec: n / (pt.encodeMs / 1000) });
  }
  prior.dispose();
  return { backend: backend.name, models: full ? 'full (prior:mnist, codec λ=0.001)' : 'tiny (full ones not cached)', batch, dsg, dps, anchors };
}
