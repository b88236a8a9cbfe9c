// Coder throughput in MB of 8-bit symbols per second, beside node's zlib (deflate level 6 /
// inflate) on the same bytes, and the learned codec's images/s. Data: ReLU-like activations
// (60 % zeros, geometric tail), 32 channels, as the activation-codec lab codes them.
import { deflateSync, inflateSync } from 'node:zlib';
import { decodeEGk, decodeSymmetricEG, encodeEGk, encodeSymmetricEG } from '../workers/coding/exp-golomb';
import { decodeGaussian, encodeGaussian } from '../workers/coding/gaussian';
import { arithDecode, arithEncode } from '../workers/coding/arith';
import { quantizeCdf, ransDecode, ransEncode } from '../workers/coding/rans';
import { Rng } from '../workers/runtime/rng';

function time(fn: () => unknown, minMs = 400): number {
  fn();
  let reps = 0; const t0 = performance.now();
  while (performance.now() - t0 < minMs) { fn(); reps++; }
  return (performance.now() - t0) / reps;
}

export function coderBench() {
  const rng = new Rng(7);
  const n = 1 << 20, C = 32;
  const symbols = Int32Array.from({ length: n }, () => (rng.next() < 0.6 ? 0 : Math.min(255, 1 + Math.floor(-8 * Math.log(1 - rng.next())))));
  const bytes = Uint8Array.from(symbols);
  const mb = n / 1e6;
  const rate = (ms: number) => mb / (ms / 1000);
  const deflateMs = time(() => deflateSync(bytes, { level: 6 }));
  const deflated = deflateSync(bytes, { level: 6 });
  const inflateMs = time(() => inflateSync(deflated));
  const counts = new Array(256).fill(0); for (const s of symbols) counts[s]++;
  const table = quantizeCdf(counts);
  const eg = encodeEGk(symbols, 4), seg = encodeSymmetricEG(symbols, C), gauss = encodeGaussian(symbols, C, 0, 255);
  const rans = ransEncode(symbols, () => table), arith = arithEncode(symbols, () => table);
  const row = (enc: () => unknown, dec: () => unknown, outBytes: number) => {
    const e = rate(time(enc)), d = rate(time(dec));
    return { encodeMBps: e, decodeMBps: d, bitsPerSymbol: (outBytes * 8) / n, encodeVsDeflate: e / rate(deflateMs), decodeVsInflate: d / rate(inflateMs) };
  };
  return {
    data: `${n} symbols, 60 % zeros, ${C} channels`,
    zlib: { deflateMBps: rate(deflateMs), inflateMBps: rate(inflateMs), bitsPerSymbol: (deflated.length * 8) / n },
    eg4: row(() => encodeEGk(symbols, 4), () => decodeEGk(eg.bytes, n, 4), eg.bytes.length),
    symmetricEg: row(() => encodeSymmetricEG(symbols, C), () => decodeSymmetricEG(seg.bytes, n, C), seg.bytes.length),
    gaussianRans: row(() => encodeGaussian(symbols, C, 0, 255), () => decodeGaussian(gauss, n, C, 0, 255), gauss.length),
    ransStaticTable: row(() => ransEncode(symbols, () => table), () => ransDecode(rans, n, () => table), rans.length),
    arithmeticStaticTable: row(() => arithEncode(symbols, () => table), () => arithDecode(arith.bytes, n, () => table), arith.bytes.length),
    targets: 'EG encode ≥ deflate level 6 (encodeVsDeflate ≥ 1); range coder encode within 3× of deflate (≥ 0.33)',
  };
}
