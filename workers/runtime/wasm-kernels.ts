// Replacement kernels for tfjs-backend-wasm 4.22, measured on our 2-core machines:
// - BatchMatMul / _FusedMatMul with transposeA/B run 10-40x slower than an explicit
//   Transpose followed by a plain matmul, and every matmul gradient transposes;
// - Conv2DBackpropFilter and UnsortedSegmentSum (the gradient of gather) are missing;
// - Conv2DBackpropInput is a naive loop (a stride-2 conv2dTranspose ~9x its conv).
// Each fix composes the backend's own fast kernels with a little JS data movement, and
// is tested against the `cpu` backend in tests/wasm-kernels.test.ts.
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Info = tf.TensorInfo;
interface WasmBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): Info;
  typedArrayFromHeap(info: Info): tf.backend_util.TypedArray;
  disposeData(dataId: object, force?: boolean): boolean;
}

export const KERNEL_FIXES = [
  'BatchMatMul:explicit-transpose',
  '_FusedMatMul:explicit-transpose',
  'Conv2DBackpropFilter:im2col-matmul',
  'Conv2DBackpropInput:matmul-col2im',
  'UnsortedSegmentSum:js',
] as const;

function kernelOf(name: string): tf.KernelConfig {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is not registered`);
  return k;
}

function replace(name: string, make: (original: KernelFunc | undefined) => KernelFunc) {
  const original = tf.getKernel(name, 'wasm');
  if (original) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(original?.kernelFunc), setupFunc: original?.setupFunc });
}

function transposeLast2(x: Info, backend: WasmBackendLike): Info {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return kernelOf('Transpose').kernelFunc({ inputs: { x }, backend: backend as never, attrs: { perm } }) as Info;
}

/** Calls the original matmul kernel with plain (non-transposed) operands. */
function explicitTranspose(original: KernelFunc): KernelFunc {
  return (args) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackendLike;
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const inputs = { ...(args.inputs as Record<string, Info>) };
    const temps: Info[] = [];
    if (attrs.transposeA) { inputs.a = transposeLast2(inputs.a, backend); temps.push(inputs.a); }
    if (attrs.transposeB) { inputs.b = transposeLast2(inputs.b, backend); temps.push(inputs.b); }
    const out = original({ ...args, inputs, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

function plainMatMul(a: Info, b: Info, backend: WasmBackendLike): Info {
  return kernelOf('BatchMatMul').kernelFunc({ inputs: { a, b }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as Info;
}

function fromValues(backend: WasmBackendLike, shape: number[], values: Float32Array): Info {
  const out = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(out).set(values);
  return out;
}

function convInfo(attrs: Record<string, unknown>, xShape: number[], filterShape: number[]) {
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') throw new Error('wasm conv gradient fix supports NHWC only');
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as [number, number], (attrs.dilations as [number, number]) ?? 1,
    attrs.pad as 'same', attrs.dimRoundingMode as 'round' | undefined, false, 'channelsLast');
}

/** dW = im2col(x)^T · dy, with the patch matrix laid out already transposed. */
const conv2dBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const backend = args.backend as unknown as WasmBackendLike;
  const attrs = args.attrs as Record<string, unknown>;
  const c = convInfo(attrs, x.shape, attrs.filterShape as number[]);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO,
    filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = c;
  const top = c.padInfo.top, left = c.padInfo.left;
  const xs = backend.readSync(x.dataId) as Float32Array;
  const N = B * OH * OW, K = KH * KW * CI;
  const colsT = new Float32Array(K * N); // [K, N]
  for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const n = (b * OH + oh) * OW + ow;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH + kh * DH - top;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW + kw * DW - left;
        if (iw < 0 || iw >= W) continue;
        const src = ((b * H + ih) * W + iw) * CI;
        const k0 = (kh * KW + kw) * CI;
        for (let ci = 0; ci < CI; ci++) colsT[(k0 + ci) * N + n] = xs[src + ci];
      }
    }
  }
  const a = fromValues(backend, [1, K, N], colsT);
  const dyFlat: Info = { dataId: dy.dataId, shape: [1, N, CO], dtype: 'float32' };
  const prod = plainMatMul(a, dyFlat, backend);
  backend.disposeData(a.dataId);
  return { dataId: prod.dataId, shape: [KH, KW, CI, CO], dtype: 'float32' };
};

/** dx = col2im(dy · W^T): one matmul in wasm, then a scatter-add in JS. Any stride. */
const conv2dBackpropInput: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const backend = args.backend as unknown as WasmBackendLike;
  const attrs = args.attrs as Record<string, unknown>;
  const inputShape = attrs.inputShape as number[];
  const c = convInfo(attrs, inputShape, filter.shape);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO,
    filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = c;
  const top = c.padInfo.top, left = c.padInfo.left;
  const K = KH * KW * CI, N = B * OH * OW;
  // W as [K, CO] -> W^T [CO, K], small enough to transpose in JS.
  const w = backend.readSync(filter.dataId) as Float32Array;
  const wT = new Float32Array(CO * K);
  for (let k = 0; k < K; k++) for (let o = 0; o < CO; o++) wT[o * K + k] = w[k * CO + o];
  const wTInfo = fromValues(backend, [1, CO, K], wT);
  const dyFlat: Info = { dataId: dy.dataId, shape: [1, N, CO], dtype: 'float32' };
  const colsInfo = plainMatMul(dyFlat, wTInfo, backend);
  backend.disposeData(wTInfo.dataId);
  const cols = backend.readSync(colsInfo.dataId) as Float32Array; // [N, K]
  backend.disposeData(colsInfo.dataId);
  const dx = new Float32Array(B * H * W * CI);
  for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const row = ((b * OH + oh) * OW + ow) * K;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH + kh * DH - top;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW + kw * DW - left;
        if (iw < 0 || iw >= W) continue;
        const dst = ((b * H + ih) * W + iw) * CI;
        const k0 = row + (kh * KW + kw) * CI;
        for (let ci = 0; ci < CI; ci++) dx[dst + ci] += cols[k0 + ci];
      }
    }
  }
  return fromValues(backend, [B, H, W, CI], dx);
};

const unsortedSegmentSum: KernelFunc = (args) => {
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
  const backend = args.backend as unknown as WasmBackendLike;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const prefix = segmentIds.shape.reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(segmentIds.shape.length).reduce((p, d) => p * d, 1);
  const xs = backend.readSync(x.dataId) as Float32Array;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const out = new Float32Array(numSegments * inner);
  for (let i = 0; i < prefix; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue; // as TF: out-of-range ids are dropped
    const src = i * inner, dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += xs[src + j];
  }
  return fromValues(backend, [numSegments, ...x.shape.slice(segmentIds.shape.length)], out);
};

let installed = false;
/** Registers the fixes on the wasm backend. Idempotent; call before or after tf.setBackend('wasm'). */
export function installWasmKernelFixes(): readonly string[] {
  if (installed) return KERNEL_FIXES;
  replace('BatchMatMul', (o) => explicitTranspose(o!));
  replace('_FusedMatMul', (o) => explicitTranspose(o!));
  replace('Conv2DBackpropFilter', () => conv2dBackpropFilter);
  replace('Conv2DBackpropInput', () => conv2dBackpropInput);
  replace('UnsortedSegmentSum', () => unsortedSegmentSum);
  installed = true;
  return KERNEL_FIXES;
}
