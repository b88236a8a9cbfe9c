// Replacement kernels for tfjs-backend-wasm 4.22, measured on our 2-core machines:
// - BatchMatMul / _FusedMatMul with transposeA/B run 10-40x slower than an explicit
//   Transpose followed by a plain matmul, and every matmul gradient transposes;
// - Conv2DBackpropFilter and UnsortedSegmentSum (the gradient of gather) are missing;
// - Conv2DBackpropInput is a naive loop (a stride-2 conv2dTranspose ~9x its conv);
// - GatherV2 of rows ([1568, 64] by 3,136 ids: 15-30 ms) and a broadcast LogicalAnd
//   ([3136, 1] with [3136, 64]: 60 ms, in every gather's second gradient) were a fifth of
//   a MoE DiT's training step.
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
  'BatchMatMul:split-large-batches',
  '_FusedMatMul:explicit-transpose',
  'Conv2DBackpropFilter:im2col-matmul',
  'Conv2DBackpropInput:matmul-col2im',
  'UnsortedSegmentSum:js',
  'GatherV2:row-copies',
  'LogicalAnd:js-broadcast',
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
    // _FusedMatMul's bias and activation stay with the original kernel: only plain products split.
    const fused = Boolean((args.inputs as Record<string, Info>).bias || (args.inputs as Record<string, Info>).preluActivationWeights || ((attrs as { activation?: string }).activation ?? 'linear') !== 'linear');
    const split = (a: Info, b: Info) => (fused ? null : splitLargeBatches(a, b, backend));
    if (!attrs.transposeA && !attrs.transposeB) {
      const inputs = args.inputs as Record<string, Info>;
      return split(inputs.a, inputs.b) ?? original(args);
    }
    const inputs = { ...(args.inputs as Record<string, Info>) };
    const temps: Info[] = [];
    if (attrs.transposeA) { inputs.a = transposeLast2(inputs.a, backend); temps.push(inputs.a); }
    if (attrs.transposeB) { inputs.b = transposeLast2(inputs.b, backend); temps.push(inputs.b); }
    const out = split(inputs.a, inputs.b) ?? original({ ...args, inputs, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

/**
 * A batch of large products (the stacked experts of a MoE: [8, 392, 64] x [8, 64, 128])
 * runs ~4x slower in the stock batched kernel than the same products one by one; small
 * ones (attention's many 49 x 16 heads) are faster batched. Large, unbroadcast float32
 * batches are therefore split into plain products.
 */
function splitLargeBatches(a: Info, b: Info, backend: WasmBackendLike): Info | null {
  const r = a.shape.length;
  if (r < 3 || b.shape.length !== r || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const lead = a.shape.slice(0, -2);
  if (lead.join() !== b.shape.slice(0, -2).join()) return null;
  const batch = lead.reduce((x, y) => x * y, 1), M = a.shape[r - 2], K = a.shape[r - 1], N = b.shape[r - 1];
  if (batch < 2 || M * K * N < SPLIT_MIN_MACS) return null;
  const av = backend.readSync(a.dataId) as Float32Array, bv = backend.readSync(b.dataId) as Float32Array;
  const out = backend.makeOutput([...lead, M, N], 'float32');
  for (let i = 0; i < batch; i++) {
    const ai = fromValues(backend, [1, M, K], av.subarray(i * M * K, (i + 1) * M * K));
    const bi = fromValues(backend, [1, K, N], bv.subarray(i * K * N, (i + 1) * K * N));
    const prod = plainMatMul(ai, bi, backend);
    // Views of the wasm heap go stale when it grows: take them after every allocation.
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(prod), i * M * N);
    for (const t of [ai, bi, prod]) backend.disposeData(t.dataId);
  }
  return out;
}
const SPLIT_MIN_MACS = 1 << 17;

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

/** Gather of whole rows (axis 0, no batch dims): row copies into the output's heap view; other gathers keep the stock kernel. */
function rowGather(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: Info; indices: Info };
    const attrs = args.attrs as { axis: number; batchDims?: number };
    const axis = attrs.axis < 0 ? attrs.axis + x.shape.length : attrs.axis;
    if (axis !== 0 || (attrs.batchDims ?? 0) !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const rows = x.shape[0], inner = x.shape.slice(1).reduce((p, d) => p * d, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after makeOutput: growing the heap detaches views taken before it.
    const src = backend.typedArrayFromHeap(x), ids = backend.typedArrayFromHeap(indices), dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < ids.length; i++) {
      const r = ids[i];
      if (r < 0 || r >= rows) { backend.disposeData(out.dataId); throw new Error(`GatherV2: index ${r} is not in [0, ${rows - 1}]`); }
      dst.set(src.subarray(r * inner, (r + 1) * inner), i * inner);
    }
    return out;
  };
}

/** LogicalAnd of differently shaped (broadcast) operands in JS; equal shapes keep the stock kernel. */
function broadcastLogicalAnd(original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    if (a.shape.join() === b.shape.join()) return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(shape, 'bool');
    const av = backend.typedArrayFromHeap(a), bv = backend.typedArrayFromHeap(b), dst = backend.typedArrayFromHeap(out);
    const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
    for (let i = 0; i < dst.length; i++) dst[i] = av[ia[i]] && bv[ib[i]] ? 1 : 0;
    return out;
  };
}

/** For an operand of `inShape` broadcast to `outShape`: the operand's flat index of each output element, built a dimension at a time. */
function broadcastIndex(inShape: number[], outShape: number[]): Int32Array {
  const lead = outShape.length - inShape.length;
  const strides: number[] = new Array(outShape.length).fill(0);
  for (let d = outShape.length - 1, s = 1; d >= lead; d--) {
    const n = inShape[d - lead];
    strides[d] = n === 1 ? 0 : s;
    s *= n;
  }
  let idx = Int32Array.of(0);
  for (let d = 0; d < outShape.length; d++) {
    const n = outShape[d], st = strides[d], next = new Int32Array(idx.length * n);
    for (let k = 0, o = 0; k < idx.length; k++) for (let j = 0; j < n; j++) next[o++] = idx[k] + j * st;
    idx = next;
  }
  return idx;
}

let installed = false;
/** Registers the fixes on the wasm backend. Idempotent; call before or after tf.setBackend('wasm'). */
export function installWasmKernelFixes(): readonly string[] {
  if (installed) return KERNEL_FIXES;
  replace('BatchMatMul', (o) => explicitTranspose(o!));
  replace('_FusedMatMul', (o) => explicitTranspose(o!));
  replace('Conv2DBackpropFilter', () => conv2dBackpropFilter);
  replace('Conv2DBackpropInput', () => conv2dBackpropInput);
  replace('UnsortedSegmentSum', () => unsortedSegmentSum);
  replace('GatherV2', (o) => rowGather(o!));
  replace('LogicalAnd', (o) => broadcastLogicalAnd(o!));
  installed = true;
  return KERNEL_FIXES;
}
