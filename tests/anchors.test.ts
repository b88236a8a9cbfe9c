// The JPEG / WebP / AVIF anchors through libvips (sharp): whole files counted, the tiling
// undone exactly (a lossless-quality round trip returns the digits), rate rising with quality.
import { describe, expect, it } from 'vitest';
import { ANCHOR_FORMATS, ANCHOR_QUALITIES, anchorPoint } from '../workers/coding/anchors';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';

const n = 130; // two tiles, the second partial
const { x } = batchFloats(loadDataset('mnist').test, Array.from({ length: n }, (_, i) => i));
const psnr = (a: Float32Array, b: Float32Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return 10 * Math.log10(a.length / s); };

describe('codec anchors', () => {
  it('each format: more quality costs more bits and gives more PSNR; tiles map back to their digits', async () => {
    for (const format of ANCHOR_FORMATS) {
      const qs = ANCHOR_QUALITIES[format];
      const lo = await anchorPoint(format, x, n, qs[0]), hi = await anchorPoint(format, x, n, qs[qs.length - 1]);
      expect(hi.bpp, format).toBeGreaterThan(lo.bpp);
      expect(psnr(hi.decoded, x), format).toBeGreaterThan(psnr(lo.decoded, x));
      expect(psnr(hi.decoded, x), format).toBeGreaterThan(25); // digit k lands back in place k (a shifted tile would score ~10 dB)
      expect(hi.bpp).toBeCloseTo((hi.bytes * 8) / (n * 784), 12);
    }
  }, 60_000);
});
