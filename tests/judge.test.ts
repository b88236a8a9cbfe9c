// The judge shared part: built on a miss, then loaded; it classifies real test digits and
// gives penultimate features for a Fréchet distance.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgePart, TINY_JUDGE } from '../workers/shared-parts/judge';
import { obtainPart, partDir } from '../workers/runtime/shared-parts';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { frechetDistance } from '../workers/runtime/frechet';
import { testContext } from './helpers/context';

describe('judge:mnist (a small recipe, for speed)', () => {
  it('trains on a miss, caches, classifies and featurizes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-judge-'));
    const { ctx, events } = await testContext(9, { home });
    const part = judgePart('mnist', TINY_JUDGE, ':tiny');
    const judge = await obtainPart(part, ctx, home);
    expect(existsSync(join(partDir(part, home), 'classifier.ckpt'))).toBe(true);
    expect(events.some((e) => e.type === 'progress' && e.phase === 'train judge:mnist')).toBe(true);
    expect(judge.testAccuracy).toBeGreaterThan(0.7);

    const test = loadDataset('mnist').test;
    const idx = Array.from({ length: 400 }, (_, i) => i);
    const { x, y } = batchFloats(test, idx);
    const { labels, features } = judge.predict(x, 400);
    const acc = labels.reduce((s, l, i) => s + (l === y[i] ? 1 : 0), 0) / 400;
    expect(acc).toBeGreaterThan(0.7);
    expect(features.length).toBe(400 * judge.featureDim);
    // Real digits are closer (in judge features) to other real digits than to noise.
    const other = batchFloats(test, Array.from({ length: 400 }, (_, i) => 400 + i)).x;
    const noise = Float32Array.from(other, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1 > 0.5 ? 1 : 0);
    const fReal = judge.predict(other, 400).features, fNoise = judge.predict(noise, 400).features;
    expect(frechetDistance(features, 400, fReal, 400, judge.featureDim)).toBeLessThan(frechetDistance(features, 400, fNoise, 400, judge.featureDim));
    judge.dispose();

    // A second request loads from the cache without training.
    const before = events.length;
    const again = await obtainPart(part, ctx, home);
    expect(events.slice(before).some((e) => e.type === 'progress')).toBe(false);
    again.dispose();
  });
});
