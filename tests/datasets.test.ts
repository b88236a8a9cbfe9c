import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchFloats, loadDataset, readOrBuildCache, TEST_EVERY } from '../workers/runtime/datasets';

describe('datasets and the canonical split', () => {
  it('mnist: all 10,000 digits, split 8,000 / 2,000 by index within each class, every class in both', () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-ds-'));
    const ds = loadDataset('mnist', home);
    expect(ds.train.count + ds.test.count).toBe(10_000);
    const perClass = (labels: Uint8Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    const total = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]; // the package's class sizes
    expect(perClass(ds.test.labels)).toEqual(total.map((n) => Math.ceil(n / TEST_EVERY.mnist)));
    expect(perClass(ds.train.labels)).toEqual(total.map((n) => n - Math.ceil(n / TEST_EVERY.mnist)));
    expect(readdirSync(join(home, 'cache', 'datasets'))).toEqual(['mnist.v1.bin']);
  });

  it('no test image also appears in train (pixel-exact)', () => {
    const ds = loadDataset('mnist');
    const key = (px: Uint8Array, i: number) => Buffer.from(px.subarray(i * 784, (i + 1) * 784)).toString('base64');
    const train = new Set(Array.from({ length: ds.train.count }, (_, i) => key(ds.train.pixels, i)));
    let dupes = 0;
    for (let i = 0; i < ds.test.count; i++) if (train.has(key(ds.test.pixels, i))) dupes++;
    expect(dupes).toBe(0);
  });

  it('a damaged cache is rebuilt from the package', () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-ds2-'));
    const file = join(home, 'cache', 'datasets', 'mnist.v1.bin');
    const good = loadDataset('mnist', home);
    writeFileSync(file, 'garbage');
    const again = readOrBuildCache('mnist', file);
    expect(again.test.count).toBe(good.test.count);
    expect(Buffer.from(again.test.pixels).equals(Buffer.from(good.test.pixels))).toBe(true);
  });

  it('batches are floats in [0, 1] with matching labels', () => {
    const ds = loadDataset('mnist');
    const { x, y } = batchFloats(ds.test, [0, 5, 9]);
    expect(x.length).toBe(3 * 784);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
    expect(Math.max(...x)).toBeGreaterThan(0.9);
    expect(Array.from(y)).toEqual([ds.test.labels[0], ds.test.labels[5], ds.test.labels[9]]);
  });

  it('fashion-mnist: 70,000 images split 60,000 / 10,000, 1,000 test images per class', () => {
    const ds = loadDataset('fashion-mnist', mkdtempSync(join(tmpdir(), 'bt-ds3-')));
    expect(ds.train.count).toBe(60_000);
    expect(ds.test.count).toBe(10_000);
    expect(Array.from({ length: 10 }, (_, c) => ds.test.labels.filter((l) => l === c).length)).toEqual(new Array(10).fill(1000));
  });
});

describe('canonical order', () => {
  it('the first 500 test images cover every class in roughly equal shares', () => {
    const ds = loadDataset('mnist');
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 500; i++) counts[ds.test.labels[i]]++;
    for (const c of counts) { expect(c).toBeGreaterThan(25); expect(c).toBeLessThan(80); }
  });
});
