// Exports a shared-decoder model to ONNX as one KV-cached graph in the layout
// transformers.js runs for causal LMs: inputs `input_ids`, `attention_mask`, `position_ids`
// and `past_key_values.{i}.key|value` [B, KV, past, hd]; outputs `logits` and
// `present.{i}.key|value`. Palettized projections stay as packed indices + fp16 lookup
// tables expanded by a Gather; LoRA adapters stay unmerged as a parallel low-rank MatMul,
// so palettes are intact and adapters can be swapped.
import { encodeOnnxModel, OnnxType, type OnnxValue } from '../runtime/onnx-writer';
import { GraphBuilder } from '../runtime/onnx-graph';
import { toFp16Array } from '../runtime/fp16';
import { GROUP_COLUMNS, type PalettizedMatrix } from './palettize';
import { headDim, PROJECTIONS, type Decoder, type DecoderConfig, type Projection } from './decoder';
import { OnnxDecoder, type OnnxDecoderShape } from '../runtime/onnx-generate';

/** Plain numbers of one decoder (read from its variables), what the exporter needs. */
export interface DecoderWeights {
  config: DecoderConfig;
  /** Every weight by the decoder's names ('embed', 'l0.wq', …), row-major. */
  weights: Record<string, Float32Array>;
  /** Projections stored palettized instead of as floats. */
  palettes?: Record<string, PalettizedMatrix>;
  /** Unmerged adapters: y = x·W + scale·(x·A)·B, A [in, r], B [r, out]. */
  lora?: Record<string, { A: Float32Array; B: Float32Array; rank: number; scale: number }>;
  /** Store the embedding, norms and adapters at fp16 (the on-device layout). */
  fp16?: boolean;
  /**
   * 'ids' (default): token ids in, the embedding looked up in the graph. 'embeds': embeddings
   * [B, T, d] in as `inputs_embeds`, so a prefix that is not tokens (a VLM's image slots) can lead.
   */
  input?: 'ids' | 'embeds';
}

/** Packs indices of `bits` along the last axis: 8/bits indices per byte, the first in the low bits. */
export function packIndices(idx: Uint8Array, bits: 2 | 4): Uint8Array {
  const per = 8 / bits;
  if (idx.length % per) throw new RangeError(`${idx.length} indices do not pack ${per} to a byte`);
  const out = new Uint8Array(idx.length / per);
  for (let i = 0; i < idx.length; i++) out[Math.floor(i / per)] |= idx[i] << ((i % per) * bits);
  return out;
}

/**
 * The subgraph that rebuilds W [in, out] from packed indices and the groups' tables: each
 * bit width's columns unpacked, seen as [in, groups, 16] so one offset per group points into
 * the joined table, the groups put back in column order, then one Gather from the table.
 */
function palettizedWeight(g: GraphBuilder, name: string, p: PalettizedMatrix): string {
  const tableOffset: number[] = [];
  const flatTable: number[] = [];
  for (const t of p.tables) { tableOffset.push(flatTable.length); flatTable.push(...t); }
  const table = g.init({ name: `${name}.lut`, dims: [flatTable.length], data: toFp16Array(flatTable) });
  const branches: string[] = [];
  const order: number[] = [];
  for (const bits of [4, 2] as const) {
    const groups: number[] = [];
    p.bits.forEach((b, grp) => { if (b === bits) groups.push(grp); });
    if (!groups.length) continue;
    const per = 8 / bits, n = groups.length * GROUP_COLUMNS;
    const idx = new Uint8Array(p.rows * n);
    for (let r = 0; r < p.rows; r++) groups.forEach((grp, k) => { for (let j = 0; j < GROUP_COLUMNS; j++) idx[r * n + k * GROUP_COLUMNS + j] = p.indices[r * p.cols + grp * GROUP_COLUMNS + j]; });
    const packed = g.init({ name: `${name}.idx${bits}`, dims: [p.rows, n / per], data: packIndices(idx, bits) });
    const mask = g.byte(2 ** bits - 1);
    const parts = Array.from({ length: per }, (_, k) => {
      const shifted = k === 0 ? packed : g.op('BitShift', [packed, g.byte(k * bits)], { direction: 'RIGHT' });
      return g.op('Unsqueeze', [g.op('BitwiseAnd', [shifted, mask]), g.ints([2])]);
    });
    const unpacked = g.op('Reshape', [g.op('Concat', parts, { axis: 2 }), g.ints([p.rows, groups.length, GROUP_COLUMNS])]);
    const offsets = g.init({ name: `${name}.offset${bits}`, dims: [groups.length, 1], data: Int32Array.from(groups, (grp) => tableOffset[grp]) });
    branches.push(g.op('Add', [g.op('Cast', [unpacked], { to: OnnxType.INT32 }), offsets]));
    order.push(...groups);
  }
  let global = branches.length === 1 ? branches[0] : g.op('Concat', branches, { axis: 1 });
  if (order.some((grp, i) => grp !== i)) {
    const where = new Array<number>(order.length);
    order.forEach((grp, i) => { where[grp] = i; });
    global = g.op('Gather', [global, g.init({ name: `${name}.groups`, dims: [where.length], data: Int32Array.from(where) })], { axis: 1 });
  }
  const columns = g.op('Reshape', [global, g.ints([p.rows, p.cols])]);
  return g.op('Cast', [g.op('Gather', [table, columns])], { to: OnnxType.FLOAT }, name);
}

function rmsNorm(g: GraphBuilder, x: string, gain: string): string {
  const meanSq = g.op('ReduceMean', [g.op('Mul', [x, x]), g.ints([-1])], { keepdims: 1 });
  return g.op('Mul', [g.op('Mul', [x, g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSq, g.float(1e-6)])])])]), gain]);
}

/** The ONNX bytes of the decoder (opset 18). */
export function exportDecoderOnnx(m: DecoderWeights): Uint8Array {
  const c = m.config, hd = headDim(c), half = hd / 2, G = c.heads / c.kvHeads;
  const fp16 = m.fp16 ?? false;
  const g = new GraphBuilder();
  const W = (name: string, dims: number[]) => g.weight(name, m.weights[name], dims, fp16);
  /** A projection's input width: the model width, or the heads' (wo) or the FFN's (w2). */
  const fanIn = (p: Projection) => (p === 'wo' ? c.heads * hd : p === 'w2' ? c.ffnHidden : c.dModel);
  const projections = new Map<string, string>();
  for (let i = 0; i < c.layers; i++) {
    for (const p of PROJECTIONS) {
      const name = `l${i}.${p}`, pal = m.palettes?.[name], w = m.weights[name];
      projections.set(name, pal ? palettizedWeight(g, name, pal) : g.init({ name, dims: [fanIn(p), w.length / fanIn(p)], data: w }));
    }
  }
  const project = (x: string, name: string): string => {
    let y = g.op('MatMul', [x, projections.get(name)!]);
    const a = m.lora?.[name];
    if (a) {
      const A = g.weight(`${name}.lora_A`, a.A, [a.A.length / a.rank, a.rank], fp16);
      const B = g.weight(`${name}.lora_B`, a.B, [a.rank, a.B.length / a.rank], fp16);
      y = g.op('Add', [y, g.op('Mul', [g.op('MatMul', [g.op('MatMul', [x, A]), B]), g.float(a.scale)])]);
    }
    return y;
  };

  const embed = W('embed', [c.vocab, c.dModel]);
  const cosTable = new Float32Array(c.maxLen * half), sinTable = new Float32Array(c.maxLen * half);
  for (let p = 0; p < c.maxLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / c.ropeBase ** ((2 * i) / hd);
      cosTable[p * half + i] = Math.cos(angle); sinTable[p * half + i] = Math.sin(angle);
    }
  }
  const cos = g.op('Unsqueeze', [g.op('Gather', [g.init({ name: 'rope_cos', dims: [c.maxLen, half], data: cosTable }), 'position_ids']), g.ints([1])]);
  const sin = g.op('Unsqueeze', [g.op('Gather', [g.init({ name: 'rope_sin', dims: [c.maxLen, half], data: sinTable }), 'position_ids']), g.ints([1])]);
  const rope = (x: string) => {
    const x1 = g.op('Slice', [x, g.ints([0]), g.ints([half]), g.ints([3])]);
    const x2 = g.op('Slice', [x, g.ints([half]), g.ints([hd]), g.ints([3])]);
    return g.op('Concat', [g.op('Sub', [g.op('Mul', [x1, cos]), g.op('Mul', [x2, sin])]), g.op('Add', [g.op('Mul', [x1, sin]), g.op('Mul', [x2, cos])])], { axis: 3 });
  };

  // Mask [B, 1, 1, T, Tk]: a key is hidden if it is after the query, outside the window, or padding.
  const byEmbeds = m.input === 'embeds';
  const pastLen = g.op('Gather', [g.op('Shape', ['past_key_values.0.key']), g.ints([2])]);
  const seqLen = g.op('Gather', [g.op('Shape', [byEmbeds ? 'inputs_embeds' : 'input_ids']), g.ints([1])]);
  const total = g.op('Add', [pastLen, seqLen]);
  const scalar = (x: string) => g.op('Squeeze', [x, g.ints([0])]);
  const qPos = g.op('Unsqueeze', [g.op('Range', [scalar(pastLen), scalar(total), scalar(g.ints([1]))]), g.ints([1])]);
  const kPos = g.op('Unsqueeze', [g.op('Range', [scalar(g.ints([0])), scalar(total), scalar(g.ints([1]))]), g.ints([0])]);
  let hidden = g.op('Greater', [kPos, qPos]);
  if (c.window !== null) hidden = g.op('Or', [hidden, g.op('GreaterOrEqual', [g.op('Sub', [qPos, kPos]), g.ints([c.window])])]);
  const padding = g.op('Unsqueeze', [g.op('Equal', [g.op('Cast', ['attention_mask'], { to: OnnxType.INT64 }), g.ints([0])]), g.ints([1, 2, 3])]);
  const mask = g.op('Mul', [g.op('Cast', [g.op('Or', [hidden, padding])], { to: OnnxType.FLOAT }), g.float(-1e9)]);

  let h = byEmbeds ? 'inputs_embeds' : g.op('Gather', [embed, 'input_ids']);
  const presents: OnnxValue[] = [];
  const pasts: OnnxValue[] = [];
  for (let i = 0; i < c.layers; i++) {
    const a = rmsNorm(g, h, W(`l${i}.attn_norm`, [c.dModel]));
    const heads = (x: string, n: number) => g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, n, hd])])], { perm: [0, 2, 1, 3] });
    let q = heads(project(a, `l${i}.wq`), c.heads);
    let k = heads(project(a, `l${i}.wk`), c.kvHeads);
    const v = heads(project(a, `l${i}.wv`), c.kvHeads);
    if (c.qkNorm) { q = rmsNorm(g, q, W(`l${i}.q_norm`, [hd])); k = rmsNorm(g, k, W(`l${i}.k_norm`, [hd])); }
    q = rope(q); k = rope(k);
    const kAll = g.op('Concat', [`past_key_values.${i}.key`, k], { axis: 2 }, `present.${i}.key`);
    const vAll = g.op('Concat', [`past_key_values.${i}.value`, v], { axis: 2 }, `present.${i}.value`);
    for (const kind of ['key', 'value']) {
      pasts.push({ name: `past_key_values.${i}.${kind}`, shape: ['batch_size', c.kvHeads, 'past_sequence_length', hd] });
      presents.push({ name: `present.${i}.${kind}`, shape: ['batch_size', c.kvHeads, 'total_sequence_length', hd] });
    }
    // GQA: the G query heads of one KV head as [B, KV, G, T, hd] against keys [B, KV, 1, Tk, hd].
    const q5 = g.op('Reshape', [q, g.ints([0, c.kvHeads, G, -1, hd])]);
    const k5 = g.op('Unsqueeze', [kAll, g.ints([2])]);
    const v5 = g.op('Unsqueeze', [vAll, g.ints([2])]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q5, g.op('Transpose', [k5], { perm: [0, 1, 2, 4, 3] })]), g.float(1 / Math.sqrt(hd))]), mask]);
    const ctx5 = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v5]);
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx5, g.ints([0, c.heads, -1, hd])])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, c.heads * hd])]);
    h = g.op('Add', [h, project(ctx, `l${i}.wo`)]);
    const f = rmsNorm(g, h, W(`l${i}.ffn_norm`, [c.dModel]));
    const gate = project(f, `l${i}.w1`);
    h = g.op('Add', [h, project(g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), project(f, `l${i}.w3`)]), `l${i}.w2`)]);
  }
  const finalHidden = rmsNorm(g, h, W('final_norm', [c.dModel]));
  g.op('MatMul', [finalHidden, g.op('Transpose', [embed], { perm: [1, 0] })], undefined, 'logits');

  return encodeOnnxModel({
    name: 'benchtop-decoder', opset: 18, nodes: g.nodes, initializers: g.initializers,
    inputs: [
      byEmbeds
        ? { name: 'inputs_embeds', elemType: OnnxType.FLOAT, shape: ['batch_size', 'sequence_length', c.dModel] }
        : { name: 'input_ids', elemType: OnnxType.INT64, shape: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', elemType: OnnxType.INT64, shape: ['batch_size', 'total_sequence_length'] },
      { name: 'position_ids', elemType: OnnxType.INT64, shape: ['batch_size', 'sequence_length'] },
      ...pasts,
    ],
    outputs: [{ name: 'logits', shape: ['batch_size', 'sequence_length', c.vocab] }, ...presents],
  });
}

/** A decoder's variables (and adapters) as plain arrays, for the exporter. */
export function readDecoderWeights(d: Decoder): Pick<DecoderWeights, 'config' | 'weights' | 'lora'> {
  const weights: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(d.weights)) weights[k] = v.dataSync() as Float32Array;
  const lora: DecoderWeights['lora'] = {};
  for (const [k, a] of Object.entries(d.lora)) lora[k] = { A: a.A.dataSync() as Float32Array, B: a.B.dataSync() as Float32Array, rank: a.A.shape[1] as number, scale: a.scale };
  return { config: d.config, weights, lora: Object.keys(lora).length ? lora : undefined };
}

/** What the onnxruntime engine needs to know of a decoder's config. */
export const onnxDecoderShape = (c: DecoderConfig): OnnxDecoderShape => ({ vocab: c.vocab, layers: c.layers, kvHeads: c.kvHeads, headDim: headDim(c) });

/** A decoder exported (`input`: ids or embeddings) and opened on onnxruntime with `threads` intra-op threads (a job's cores). */
export function openDecoderOnnx(m: DecoderWeights, threads?: number): Promise<OnnxDecoder> {
  return OnnxDecoder.open(exportDecoderOnnx(m), onnxDecoderShape(m.config), threads);
}
