// Standard image codecs as anchors of a rate–distortion comparison: JPEG (mozjpeg), WebP
// and AVIF, encoded and decoded here by libvips through `sharp`. 28×28 digits are tiled
// 10 × 10 into one 280×280 grey image per 100 digits, so the file headers (hundreds of bytes)
// do not dominate, and whole files are counted: bpp = file bits / (digits · 784), the learned
// codec's measure (the black padding of a last, partial tile costs next to nothing).
import sharp from 'sharp';
import { PIXELS } from '../runtime/datasets';
import type { AnchorFormat } from '../../common/anchors';

export { ANCHOR_FORMATS, type AnchorFormat } from '../../common/anchors';
/** Quality settings swept per format (each library's own 1–100 scale). */
export const ANCHOR_QUALITIES: Record<AnchorFormat, readonly number[]> = {
  jpeg: [5, 10, 20, 35, 50, 75, 90],
  webp: [1, 5, 15, 30, 50, 75, 90],
  avif: [1, 10, 25, 40, 55, 70, 85],
};

const SIDE = 28, PER_ROW = 10, TILE = SIDE * PER_ROW;

/** Digits i·100 … i·100+99 of `images` (n·784 in [0, 1]) as one 280×280 grey tile; missing places stay black. */
function tile(images: Float32Array, n: number, t: number): Buffer {
  const out = Buffer.alloc(TILE * TILE);
  for (let k = 0; k < PER_ROW * PER_ROW && t * 100 + k < n; k++) {
    const src = (t * 100 + k) * PIXELS, r0 = Math.floor(k / PER_ROW) * SIDE, c0 = (k % PER_ROW) * SIDE;
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) out[(r0 + y) * TILE + c0 + x] = Math.round(Math.min(1, Math.max(0, images[src + y * SIDE + x])) * 255);
  }
  return out;
}

async function encode(format: AnchorFormat, raw: Buffer, quality: number): Promise<Buffer> {
  const img = sharp(raw, { raw: { width: TILE, height: TILE, channels: 1 } });
  if (format === 'jpeg') return img.jpeg({ quality, mozjpeg: true }).toBuffer();
  if (format === 'webp') return img.webp({ quality }).toBuffer();
  return img.avif({ quality }).toBuffer();
}

/** A file back to grey bytes (the first channel of whatever the decoder returns). */
async function decodeGrey(file: Buffer): Promise<Uint8Array> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== TILE || info.height !== TILE) throw new Error(`anchor decoded to ${info.width}×${info.height}, expected ${TILE}×${TILE}`);
  if (info.channels === 1) return data;
  const grey = new Uint8Array(TILE * TILE);
  for (let i = 0; i < grey.length; i++) grey[i] = data[i * info.channels];
  return grey;
}

export interface AnchorPoint { quality: number; bytes: number; bpp: number; decoded: Float32Array; encodeMs: number }

/** `images` (n·784 in [0, 1]) through one format at one quality: whole-file bpp and the decodes (n·784). */
export async function anchorPoint(format: AnchorFormat, images: Float32Array, n: number, quality: number): Promise<AnchorPoint> {
  const tiles = Math.ceil(n / 100);
  const decoded = new Float32Array(n * PIXELS);
  let bytes = 0, encodeMs = 0;
  for (let t = 0; t < tiles; t++) {
    const t0 = performance.now();
    const file = await encode(format, tile(images, n, t), quality);
    encodeMs += performance.now() - t0;
    bytes += file.length;
    const grey = await decodeGrey(file);
    for (let k = 0; k < 100 && t * 100 + k < n; k++) {
      const dst = (t * 100 + k) * PIXELS, r0 = Math.floor(k / PER_ROW) * SIDE, c0 = (k % PER_ROW) * SIDE;
      for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) decoded[dst + y * SIDE + x] = grey[(r0 + y) * TILE + c0 + x] / 255;
    }
  }
  return { quality, bytes, bpp: (bytes * 8) / (n * PIXELS), decoded, encodeMs };
}
