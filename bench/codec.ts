// The learned MSE codec's encode/decode speed (images/s, bytes counted for real), on the
// tiny cached codec so the bench never waits for a full training run.
import { deflateSync, inflateSync } from 'node:zlib';
import { initBackend } from '../workers/runtime/backend';
import { obtainPart } from '../workers/runtime/shared-parts';
import { codecPart, TINY_CODEC } from '../workers/shared-parts/mse-codec';
import { decodeImage, encodeImage } from '../workers/nn/image-codec';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import type { RunContext } from '../workers/runtime/context';

export async function codecBench() {
  const backend = await initBackend();
  const ctx = { rng: new Rng(0), progress: () => {}, metric: () => {}, log: () => {}, emit: () => {}, throwIfCancelled: () => {} } as unknown as RunContext;
  const codec = await obtainPart(codecPart('mnist', 0.001, TINY_CODEC, ':tiny'), ctx);
  const test = loadDataset('mnist').test;
  const n = 200;
  const images = Array.from({ length: n }, (_, i) => batchFloats(test, [i]).x);
  let t0 = performance.now();
  const streams = images.map((x) => encodeImage(codec, x));
  const encodeMs = performance.now() - t0;
  t0 = performance.now();
  for (const s of streams) decodeImage(codec, s);
  const decodeMs = performance.now() - t0;
  // zlib on the same images' 8-bit pixels: the lossless baseline, per image as the codec.
  const pixels = images.map((x) => Uint8Array.from(x, (v) => Math.round(v * 255)));
  t0 = performance.now();
  const deflated = pixels.map((p) => deflateSync(p, { level: 6 }));
  const deflateMs = performance.now() - t0;
  t0 = performance.now();
  for (const d of deflated) inflateSync(d);
  const inflateMs = performance.now() - t0;
  const encodeImagesPerSec = n / (encodeMs / 1000), decodeImagesPerSec = n / (decodeMs / 1000);
  const deflateImagesPerSec = n / (deflateMs / 1000), inflateImagesPerSec = n / (inflateMs / 1000);
  return {
    backend: backend.name, codec: 'tiny (N=16, M=8), λ=0.001', images: n,
    encodeImagesPerSec, decodeImagesPerSec, meanBytes: streams.reduce((s, b) => s + b.length, 0) / n,
    zlib: { deflateImagesPerSec, inflateImagesPerSec, meanBytes: deflated.reduce((s, b) => s + b.length, 0) / n },
    encodeVsDeflate: encodeImagesPerSec / deflateImagesPerSec, decodeVsInflate: decodeImagesPerSec / inflateImagesPerSec,
  };
}
