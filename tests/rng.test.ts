import { describe, expect, it } from 'vitest';
import { Rng } from '../workers/runtime/rng';

describe('Rng', () => {
  it('same seed, same stream; different seed, different stream', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xs = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextU32())).not.toEqual(xs);
  });
  it('forks are deterministic and independent of each other', () => {
    const f1 = new Rng(5).fork('init'), f2 = new Rng(5).fork('init'), g = new Rng(5).fork('shuffle');
    const a = Array.from({ length: 10 }, () => f1.next());
    expect(Array.from({ length: 10 }, () => f2.next())).toEqual(a);
    expect(Array.from({ length: 10 }, () => g.next())).not.toEqual(a);
  });
  it('uniform and normal have the right moments', () => {
    const r = new Rng(1);
    const n = 200_000;
    let su = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < n; i++) { su += r.next(); const z = r.normal(); sn += z; sn2 += z * z; }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
  });
  it('permutation is a permutation; int stays in range', () => {
    const r = new Rng(9);
    const p = Array.from(r.permutation(1000)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    for (let i = 0; i < 1000; i++) { const v = r.int(7); expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThan(7); }
  });
});
