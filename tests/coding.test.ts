// The coding core: every coder round-trips bit-exactly on random and adversarial input;
// EG stream lengths equal the formula; the range coder stays within 1 % + a few bytes of
// its table's bits; the Gaussian coder within 1 % + a few bytes of the model's estimate.
import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter } from '../workers/coding/bit-io';
import {
  decodeEGk, decodeSymmetricEG, eg0Length, egkLength, encodeEGk, encodeSymmetricEG, medianInt, readEG0, symmetricEGBits, unzigzag, writeEG0, zigzag,
} from '../workers/coding/exp-golomb';
import { checkTable, quantizeCdf, ransDecode, ransEncode, tableBits } from '../workers/coding/rans';
import { channelGaussians, channelMoments, decodeGaussian, encodeGaussian, gaussianEstimateBits, gaussianPmf, histogramCodeBits, normalCdf } from '../workers/coding/gaussian';
import { Rng } from '../workers/runtime/rng';

const rng = new Rng(2024);
const ints = (n: number, max: number) => Int32Array.from({ length: n }, () => rng.int(max + 1));
const adversarial: [string, Int32Array][] = [
  ['empty', new Int32Array(0)], ['single zero', Int32Array.of(0)], ['single max', Int32Array.of(255)],
  ['all zeros', new Int32Array(1000)], ['all max', new Int32Array(1000).fill(255)], ['alternating extremes', Int32Array.from({ length: 999 }, (_, i) => (i % 2 ? 255 : 0))],
];

describe('bit I/O', () => {
  it('writes and reads back arbitrary bit fields', () => {
    const w = new BitWriter(1);
    const fields = Array.from({ length: 500 }, () => { const n = rng.int(33); return [rng.int(2 ** Math.min(n, 31)) % 2 ** n, n]; });
    for (const [v, n] of fields) w.writeBits(v, n);
    const bytes = w.finish();
    expect(bytes.length).toBe(Math.ceil(w.bitLength / 8));
    const r = new BitReader(bytes);
    for (const [v, n] of fields) expect(r.readBits(n)).toBe(v);
    expect(() => new BitReader(new Uint8Array(0)).readBit()).toThrow(/past the end/);
  });
});

describe('exp-Golomb', () => {
  it('EG-0 codewords match the definition by hand', () => {
    const code = (n: number) => { const w = new BitWriter(); writeEG0(w, n); const b = w.finish(); return Array.from({ length: w.bitLength }, (_, i) => (b[i >> 3] >> (7 - (i & 7))) & 1).join(''); };
    expect(code(0)).toBe('1');
    expect(code(1)).toBe('010');
    expect(code(2)).toBe('011');
    expect(code(3)).toBe('00100');
    expect(code(6)).toBe('00111');
    expect(code(7)).toBe('0001000');
    expect([0, 1, 2, 3, 6, 7, 254].map(eg0Length)).toEqual([1, 3, 3, 5, 5, 7, 15]);
  });
  it('EG-k: length formula, exact stream length, bit-exact round trip (k = 0, 2, 4)', () => {
    for (const k of [0, 2, 4]) {
      for (const [name, v] of [...adversarial, ['random 8-bit', ints(5000, 255)] as [string, Int32Array]]) {
        const { bytes, bits } = encodeEGk(v, k);
        const expected = v.reduce((s, x) => s + 2 * Math.floor(Math.log2(Math.floor(x / 2 ** k) + 1)) + 1 + k, 0);
        expect(bits, `${name} k=${k}`).toBe(expected);
        expect(v.reduce((s, x) => s + egkLength(x, k), 0)).toBe(expected);
        expect(bytes.length).toBe(Math.ceil(bits / 8));
        expect(Array.from(decodeEGk(bytes, v.length, k)), name).toEqual(Array.from(v));
      }
    }
  });
  it('zigzag maps 0,-1,1,-2,2 to 0,1,2,3,4 and back', () => {
    expect([0, -1, 1, -2, 2].map(zigzag)).toEqual([0, 1, 2, 3, 4]);
    for (let r = -300; r <= 300; r++) expect(unzigzag(zigzag(r))).toBe(r);
  });
  it('symmetric EG: medians as side info, exact length, bit-exact round trip', () => {
    const C = 8;
    const peaked = Int32Array.from({ length: 4000 }, (_, i) => Math.max(0, Math.min(255, 100 + 10 * (i % C) + Math.round(rng.normal() * 3))));
    for (const [name, v] of [...adversarial.filter(([, a]) => a.length % C === 0 || a.length === 0), ['peaked', peaked] as [string, Int32Array]]) {
      const { bytes, bits, medians } = encodeSymmetricEG(v, C);
      expect(bits, name).toBe(symmetricEGBits(v, C));
      expect(Array.from(decodeSymmetricEG(bytes, v.length, C)), name).toEqual(Array.from(v));
      if (v.length) expect(medians.length).toBe(C);
    }
    // Peaked data around a channel median costs far less than raw 8 bits.
    expect(symmetricEGBits(peaked, C) / peaked.length).toBeLessThan(5);
    expect(medianInt([5, 1, 3, 9])).toBe(3);
  });
  it('rejects out-of-range input and a corrupt stream with a clear message', () => {
    expect(() => writeEG0(new BitWriter(), -1)).toThrow(/EG-0 codes integers/);
    expect(() => readEG0(new BitReader(new Uint8Array(8)))).toThrow(/corrupt stream/);
  });
});

describe('rANS range coder', () => {
  it('quantized CDFs are valid: total 2^16, every symbol at least 1, deterministic', () => {
    for (const probs of [[1], [0.5, 0.5], [1, 0, 0, 0], Array.from({ length: 256 }, (_, i) => Math.exp(-i / 4)), Array.from({ length: 300 }, () => rng.next())]) {
      const cdf = quantizeCdf(probs);
      expect(() => checkTable(cdf)).not.toThrow();
      expect(Array.from(quantizeCdf(probs))).toEqual(Array.from(cdf));
    }
  });
  it('round-trips bit-exactly and stays within 1 % + 6 bytes of the table bits', () => {
    const skewed = quantizeCdf(Array.from({ length: 256 }, (_, i) => Math.exp(-i / 3)));
    const uniform = quantizeCdf(new Array(256).fill(1));
    const cases: [string, Int32Array, Uint32Array][] = [
      ...adversarial.map(([n, a]) => [n, a, uniform] as [string, Int32Array, Uint32Array]),
      ['skewed data, skewed table', Int32Array.from({ length: 20000 }, () => Math.min(255, Math.floor(-3 * Math.log(1 - rng.next())))), skewed],
      ['all zeros, skewed table', new Int32Array(50000), skewed],
      ['rare symbols, skewed table', new Int32Array(2000).fill(255), skewed],
    ];
    for (const [name, symbols, table] of cases) {
      const bytes = ransEncode(symbols, () => table);
      expect(Array.from(ransDecode(bytes, symbols.length, () => table)), name).toEqual(Array.from(symbols));
      const est = tableBits(symbols, () => table);
      // Upper bound for every input. (No per-sequence lower bound: for a constant input the
      // rANS state walks a fixed path and may spend a few % less than -log2 P; only the
      // expected length is bounded below, checked next on data drawn from the table.)
      expect(bytes.length * 8, name).toBeLessThanOrEqual(est * 1.01 + 48);
    }
  });
  it('on data drawn from its own table the length is within 1 % + 6 bytes both ways', () => {
    const table = quantizeCdf(Array.from({ length: 64 }, (_, i) => Math.exp(-i / 5)));
    const draw = () => { const u = rng.int(65536); let s = 0; while (table[s + 1] <= u) s++; return s; };
    for (const n of [1000, 30000]) {
      const symbols = Int32Array.from({ length: n }, draw);
      const bits = ransEncode(symbols, () => table).length * 8, est = tableBits(symbols, () => table);
      expect(Math.abs(bits - est), `n=${n}: ${bits} vs ${est.toFixed(0)}`).toBeLessThanOrEqual(est * 0.01 + 48);
    }
  });
  it('per-symbol tables (one per channel) round-trip', () => {
    const tables = Array.from({ length: 5 }, (_, c) => quantizeCdf(gaussianPmf(50 * c, 2 + c, 0, 255)));
    const symbols = Int32Array.from({ length: 5000 }, (_, i) => Math.max(0, Math.min(255, Math.round(50 * (i % 5) + rng.normal() * (2 + (i % 5))))));
    const bytes = ransEncode(symbols, (i) => tables[i % 5]);
    expect(Array.from(ransDecode(bytes, symbols.length, (i) => tables[i % 5]))).toEqual(Array.from(symbols));
  });
  it('refuses a symbol outside its table and a truncated stream', () => {
    expect(() => ransEncode([3], () => quantizeCdf([1, 1]))).toThrow(/outside its table/);
    const bytes = ransEncode(ints(1000, 255), () => quantizeCdf(new Array(256).fill(1)));
    expect(() => ransDecode(bytes.subarray(0, 100), 1000, () => quantizeCdf(new Array(256).fill(1)))).toThrow(/ended early/);
  });
});

describe('discretized Gaussian', () => {
  it('Φ matches known values; the pmf sums to 1 with tails folded in', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980, 8);
    const p = gaussianPmf(3.2, 1.7, 0, 10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[3]).toBeCloseTo(normalCdf((3.5 - 3.2) / 1.7) - normalCdf((2.5 - 3.2) / 1.7), 12);
  });
  it('the Gaussian coder round-trips and its bytes are within 1 % + 6 bytes of the model estimate', () => {
    const C = 16;
    const cases: [string, Int32Array][] = [
      ['gaussian channels', Int32Array.from({ length: 16 * 2000 }, (_, i) => Math.max(0, Math.min(255, Math.round(20 + 12 * (i % C) + rng.normal() * (1 + (i % C)))))) ],
      ['relu-like: mostly zero', Int32Array.from({ length: 16 * 2000 }, () => (rng.next() < 0.7 ? 0 : rng.int(60)))],
      ['all zeros', new Int32Array(16 * 100)],
      ['all max', new Int32Array(16 * 100).fill(255)],
      ['empty', new Int32Array(0)],
    ];
    for (const [name, v] of cases) {
      const bytes = encodeGaussian(v, C, 0, 255);
      expect(Array.from(decodeGaussian(bytes, v.length, C, 0, 255)), name).toEqual(Array.from(v));
      const est = gaussianEstimateBits(v, C, 0, 255);
      expect(Math.abs(bytes.length * 8 - est), `${name}: ${bytes.length * 8} bits vs estimate ${est.toFixed(0)}`).toBeLessThanOrEqual(est * 0.01 + 48);
    }
  });
  it('fits μ, σ by code length: never worse than the moments, far better on a ReLU spike at zero', () => {
    const bitsOf = (v: Int32Array, fit: { mu: Float32Array; sigma: Float32Array }) => {
      const counts = new Float64Array(256);
      for (const x of v) counts[x]++;
      return histogramCodeBits(counts, fit.mu[0], fit.sigma[0], 0, 255);
    };
    const cases: [string, Int32Array, number][] = [
      // A well-posed Gaussian: the moments are already the maximum-likelihood fit.
      ['gaussian', Int32Array.from({ length: 4000 }, () => Math.round(100 + 9 * rng.normal())), 1],
      // 70 % zeros, the rest a half-normal: a Gaussian centred below 0 folds its tail into bin 0.
      ['relu spike', Int32Array.from({ length: 4000 }, () => (rng.next() < 0.7 ? 0 : Math.min(255, Math.round(Math.abs(rng.normal()) * 25)))), 0.9],
    ];
    for (const [name, v, maxRatio] of cases) {
      const moments = bitsOf(v, channelMoments(v, 1)), fitted = bitsOf(v, channelGaussians(v, 1, 0, 255));
      expect(fitted, name).toBeLessThanOrEqual(moments);
      expect(fitted / moments, `${name}: ${fitted.toFixed(0)} vs moments ${moments.toFixed(0)} bits`).toBeLessThan(maxRatio + 1e-9);
      // the estimate is exactly these bits plus 64 bits of μ, σ
      expect(gaussianEstimateBits(v, 1, 0, 255)).toBeCloseTo(fitted + 64, 6);
    }
  });
});

import { arithDecode, arithEncode } from '../workers/coding/arith';

describe('arithmetic coder (bit-precise termination)', () => {
  const skewed = quantizeCdf(Array.from({ length: 64 }, (_, i) => Math.exp(-i / 2)));
  const uniform = quantizeCdf(new Array(256).fill(1));
  it('round-trips bit-exactly, random and adversarial', () => {
    const cases: [string, Int32Array, Uint32Array][] = [
      ...adversarial.map(([n, a]) => [n, a, uniform] as [string, Int32Array, Uint32Array]),
      ['skewed', Int32Array.from({ length: 20000 }, () => Math.min(63, Math.floor(-2 * Math.log(1 - rng.next())))), skewed],
      ['rarest symbol repeated', new Int32Array(3000).fill(63), skewed],
      ['one symbol', Int32Array.of(5), skewed],
    ];
    for (const [name, symbols, table] of cases) {
      const { bytes } = arithEncode(symbols, () => table);
      expect(Array.from(arithDecode(bytes, symbols.length, () => table)), name).toEqual(Array.from(symbols));
    }
  });
  it('costs at most the table bits + 2 bits + byte padding, even for tiny messages', () => {
    for (const n of [1, 3, 10, 100, 10000]) {
      const symbols = Int32Array.from({ length: n }, () => Math.min(63, Math.floor(-2 * Math.log(1 - rng.next()))));
      const { bits } = arithEncode(symbols, () => skewed);
      const est = tableBits(symbols, () => skewed);
      expect(bits, `n=${n}`).toBeLessThanOrEqual(Math.ceil(est * 1.0001) + 2);
    }
  });
  it('per-symbol tables round-trip', () => {
    const tables = Array.from({ length: 7 }, (_, c) => quantizeCdf(gaussianPmf(c - 3, 0.3 + c, -20, 20)));
    const symbols = Int32Array.from({ length: 7 * 300 }, (_, i) => Math.max(0, Math.min(40, Math.round(20 + (i % 7) - 3 + rng.normal() * (0.3 + (i % 7))))));
    const { bytes } = arithEncode(symbols, (i) => tables[i % 7]);
    expect(Array.from(arithDecode(bytes, symbols.length, (i) => tables[i % 7]))).toEqual(Array.from(symbols));
  });
});
