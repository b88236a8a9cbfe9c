// Exports a DiT (./dit) forward to ONNX for sampling on onnxruntime, op for op with
// ditForward: inputs `x` [B, 784], `t_features` [B, 64] (timestepFeatures), `context`
// [B, L] and the capacities; outputs the velocity `v` and, per MoE block i, the routing:
// `probs.i` [S, E], and `ec_tokens.i` [E, C] (TopK over each expert's column: larger first,
// ties to the lower token, as topTokensPerExpert) or `tc_choice.i` [S, 2] with `tc_keep.i`
// [2S] (first choices of all tokens, then second choices). Expert choice gathers its
// tokens and scatter-adds them back; token choice runs every expert on every token and
// weights the kept assignments (exact, and simpler than slot bookkeeping in a graph).
import type * as Ort from 'onnxruntime-node';
import { encodeOnnxModel, OnnxType, type OnnxValue } from '../runtime/onnx-writer';
import { GraphBuilder } from '../runtime/onnx-graph';
import { onnxRuntime, openOnnxSession } from '../runtime/onnx';
import type { VelocityField } from '../train/flow-sampling';
import { T_FEATURES, timestepFeatures, tokensPerImage, type Dit } from './dit';
import { ecCapacity, tcCapacity, traceOf, type RoutingTrace } from './moe';

export const DIT_ONNX_INPUTS = { x: 'x', t: 't_features', context: 'context_ids', ecCapacity: 'ec_capacity', tcCapacity: 'tc_capacity' } as const;

/** Every weight of the model as plain numbers, with its shape. */
function readWeights(m: Dit): Map<string, { data: Float32Array; dims: number[] }> {
  const out = new Map<string, { data: Float32Array; dims: number[] }>();
  for (const [k, v] of Object.entries(m.weights)) out.set(k, { data: v.dataSync() as Float32Array, dims: v.shape });
  for (const [i, w] of Object.entries(m.moe)) {
    out.set(`l${i}.router`, { data: w.router.dataSync() as Float32Array, dims: w.router.shape });
    for (const [k, v] of Object.entries(w.experts)) out.set(`l${i}.experts.${k}`, { data: v.dataSync() as Float32Array, dims: v.shape });
  }
  out.set('pos', { data: m.pos.dataSync() as Float32Array, dims: m.pos.shape });
  return out;
}

export function exportDitOnnx(m: Dit): Uint8Array {
  const c = m.config, d = c.dModel, N = tokensPerImage(c), side = c.image / c.patch, pp = c.patch * c.patch, hd = d / c.heads;
  const g = new GraphBuilder();
  const weights = readWeights(m);
  const W = (name: string) => { const w = weights.get(name)!; return g.init({ name, dims: w.dims, data: w.data }); };
  const linear = (x: string, w: string, b?: string) => { const y = g.op('MatMul', [x, W(w)]); return b ? g.op('Add', [y, W(b)]) : y; };
  const sigmoid = (x: string) => g.op('Sigmoid', [x]);
  const silu = (x: string) => g.op('Mul', [x, sigmoid(x)]);
  const gelu = (x: string) => g.op('Mul', [x, sigmoid(g.op('Mul', [x, g.float(1.702)]))]);
  const ones = g.init({ name: 'ln_ones', dims: [d], data: new Float32Array(d).fill(1) });
  const layerNorm = (x: string) => g.op('LayerNormalization', [x, ones], { axis: -1, epsilon: 1e-6 });
  const slice = (x: string, from: number, to: number, axis: number) => g.op('Slice', [x, g.ints([from]), g.ints([to]), g.ints([axis])]);
  const modulate = (x: string, shift: string, scale: string) => g.op('Add', [g.op('Mul', [layerNorm(x), g.op('Add', [scale, g.float(1)])]), shift]);
  const attention = (q: string, k: string, v: string) => {
    const heads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, g.ints([0, -1, c.heads, hd])])], { perm: [0, 2, 1, 3] });
    const kT = g.op('Transpose', [g.op('Reshape', [k, g.ints([0, -1, c.heads, hd])])], { perm: [0, 2, 3, 1] });
    const scores = g.op('Mul', [g.op('MatMul', [heads(q), kT]), g.float(1 / Math.sqrt(hd))]);
    const out = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), heads(v)]);
    return g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1, 3] }), g.ints([0, -1, d])]);
  };
  const outputs: OnnxValue[] = [];
  /** Every expert's FFN on token slots x [E, T, d] → [E, T, d]. */
  const experts = (i: number, x: string) => {
    const hdn = gelu(g.op('Add', [g.op('MatMul', [x, W(`l${i}.experts.w1`)]), W(`l${i}.experts.b1`)]));
    return g.op('Add', [g.op('MatMul', [hdn, W(`l${i}.experts.w2`)]), W(`l${i}.experts.b2`)]);
  };
  const router = (i: number, f: string) => g.op('Softmax', [g.op('MatMul', [f, W(`l${i}.router`)])], { axis: 1 }, `probs.${i}`);

  const expertChoice = (i: number, f: string) => {
    const A = router(i, f);
    const gatesAndTokens = g.opN('TopK', [g.op('Transpose', [A], { perm: [1, 0] }), DIT_ONNX_INPUTS.ecCapacity], 2, { axis: -1, largest: 1, sorted: 1 });
    const [gates, tokens] = [gatesAndTokens[0], g.op('Identity', [gatesAndTokens[1]], undefined, `ec_tokens.${i}`)];
    const out = g.op('Mul', [experts(i, g.op('Gather', [f, tokens], { axis: 0 })), g.op('Unsqueeze', [gates, g.ints([2])])]);
    const zeros = g.op('Expand', [g.float(0), g.op('Shape', [f])]);
    return g.op('ScatterND', [zeros, g.op('Reshape', [tokens, g.ints([-1, 1])]), g.op('Reshape', [out, g.ints([-1, d])])], { reduction: 'add' });
  };

  const tokenChoice = (i: number, f: string) => {
    const A = router(i, f);
    const [vals, idx] = g.opN('TopK', [A, g.ints([2])], 2, { axis: 1, largest: 1, sorted: 1 });
    g.op('Identity', [idx], undefined, `tc_choice.${i}`);
    const gates = g.op('Div', [vals, g.op('ReduceSum', [vals, g.ints([1])], { keepdims: 1 })]);
    // Assignments in the capacity order: all first choices, then all second choices.
    const order = g.op('Transpose', [idx], { perm: [1, 0] });
    const onehot = g.op('Cast', [g.op('Equal', [g.op('Unsqueeze', [order, g.ints([2])]), g.ints(Array.from({ length: c.experts }, (_, e) => e))])], { to: OnnxType.FLOAT });
    const flat = g.op('Reshape', [onehot, g.ints([-1, c.experts])]);
    const rank = g.op('ReduceSum', [g.op('Mul', [g.op('CumSum', [flat, g.ints([0])]), flat]), g.ints([1])], { keepdims: 0 });
    const keep = g.op('LessOrEqual', [rank, g.op('Cast', [DIT_ONNX_INPUTS.tcCapacity], { to: OnnxType.FLOAT })], undefined, `tc_keep.${i}`);
    const kept = g.op('Reshape', [g.op('Cast', [keep], { to: OnnxType.FLOAT }), g.ints([2, -1, 1])]);
    const gateOf = g.op('Unsqueeze', [g.op('Transpose', [gates], { perm: [1, 0] }), g.ints([2])]);
    const weight = g.op('ReduceSum', [g.op('Mul', [g.op('Mul', [onehot, gateOf]), kept]), g.ints([0])], { keepdims: 0 });
    const all = experts(i, g.op('Unsqueeze', [f, g.ints([0])]));
    return g.op('ReduceSum', [g.op('Mul', [all, g.op('Unsqueeze', [g.op('Transpose', [weight], { perm: [1, 0] }), g.ints([2])])]), g.ints([0])], { keepdims: 0 });
  };

  const patches = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [DIT_ONNX_INPUTS.x, g.ints([-1, side, c.patch, side, c.patch])])], { perm: [0, 1, 3, 2, 4] }), g.ints([-1, N, pp])]);
  let h = g.op('Add', [linear(patches, 'patch_w', 'patch_b'), W('pos')]);
  const cond = linear(silu(linear(DIT_ONNX_INPUTS.t, 't_w1', 't_b1')), 't_w2', 't_b2');
  const condAct = silu(cond);
  const ctx = g.op('Gather', [W('context'), DIT_ONNX_INPUTS.context], { axis: 0 });
  let usesEc = false, usesTc = false;
  for (let i = 0; i < c.layers; i++) {
    const mod = g.op('Unsqueeze', [linear(condAct, `l${i}.mod`, `l${i}.mod_b`), g.ints([1])]);
    const part = (k: number) => slice(mod, k * d, (k + 1) * d, 2);
    const a = modulate(h, part(0), part(1));
    const qkv = g.op('MatMul', [a, W(`l${i}.qkv`)]);
    h = g.op('Add', [h, g.op('Mul', [g.op('MatMul', [attention(slice(qkv, 0, d, 2), slice(qkv, d, 2 * d, 2), slice(qkv, 2 * d, 3 * d, 2)), W(`l${i}.attn_o`)]), part(2)])]);
    const xq = g.op('MatMul', [layerNorm(h), W(`l${i}.xq`)]);
    const xkv = g.op('MatMul', [ctx, W(`l${i}.xkv`)]);
    h = g.op('Add', [h, g.op('MatMul', [attention(xq, slice(xkv, 0, d, 2), slice(xkv, d, 2 * d, 2)), W(`l${i}.x_o`)])]);
    const f = g.op('Reshape', [modulate(h, part(3), part(4)), g.ints([-1, d])]);
    let y: string;
    if (c.ffn[i] === 'dense') y = linear(gelu(linear(f, `l${i}.ffn_w1`, `l${i}.ffn_b1`)), `l${i}.ffn_w2`, `l${i}.ffn_b2`);
    else if (c.ffn[i] === 'ec') {
      y = expertChoice(i, f); usesEc = true;
      outputs.push({ name: `probs.${i}`, shape: ['tokens', c.experts] }, { name: `ec_tokens.${i}`, elemType: OnnxType.INT64, shape: [c.experts, 'capacity'] });
    } else {
      y = tokenChoice(i, f); usesTc = true;
      outputs.push({ name: `probs.${i}`, shape: ['tokens', c.experts] }, { name: `tc_choice.${i}`, elemType: OnnxType.INT64, shape: ['tokens', 2] }, { name: `tc_keep.${i}`, elemType: OnnxType.BOOL, shape: ['assignments'] });
    }
    h = g.op('Add', [h, g.op('Mul', [g.op('Reshape', [y, g.ints([-1, N, d])]), part(5)])]);
  }
  const fin = g.op('Unsqueeze', [linear(condAct, 'final_mod', 'final_mod_b'), g.ints([1])]);
  const out = linear(modulate(h, slice(fin, 0, d, 2), slice(fin, d, 2 * d, 2)), 'final_w', 'final_b');
  g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [out, g.ints([-1, side, side, c.patch, c.patch])])], { perm: [0, 1, 3, 2, 4] }), g.ints([-1, c.image * c.image])], undefined, 'v');

  const inputs: OnnxValue[] = [
    { name: DIT_ONNX_INPUTS.x, shape: ['batch', c.image * c.image] },
    { name: DIT_ONNX_INPUTS.t, shape: ['batch', T_FEATURES] },
    { name: DIT_ONNX_INPUTS.context, elemType: OnnxType.INT64, shape: ['batch', 'context_length'] },
  ];
  if (usesEc) inputs.push({ name: DIT_ONNX_INPUTS.ecCapacity, elemType: OnnxType.INT64, shape: [1] });
  if (usesTc) inputs.push({ name: DIT_ONNX_INPUTS.tcCapacity, elemType: OnnxType.INT64, shape: [1] });
  return encodeOnnxModel({ name: 'benchtop-dit', opset: 18, nodes: g.nodes, initializers: g.initializers, inputs, outputs: [{ name: 'v', shape: ['batch', c.image * c.image] }, ...outputs] });
}

/** Routing traces read from the graph's outputs, as the TF.js forward reports them. */
function routingOf(m: Dit, out: Record<string, { data: unknown }>, S: number, ecC: number, tcC: number): Record<number, RoutingTrace> {
  const E = m.config.experts, routing: Record<number, RoutingTrace> = {};
  for (const key of Object.keys(m.moe)) {
    const i = Number(key), probs = out[`probs.${i}`].data as Float32Array;
    if (m.config.ffn[i] === 'ec') {
      const tokens = out[`ec_tokens.${i}`].data as BigInt64Array;
      routing[i] = traceOf('ec', probs, S, E, ecC, Array.from({ length: E }, (_, e) => Array.from(tokens.subarray(e * ecC, (e + 1) * ecC), Number)), 0);
    } else {
      const choice = out[`tc_choice.${i}`].data as BigInt64Array, keep = out[`tc_keep.${i}`].data as Uint8Array;
      const lists: number[][] = Array.from({ length: E }, () => []);
      let dropped = 0;
      for (let r = 0; r < 2; r++) for (let s = 0; s < S; s++) {
        if (keep[r * S + s]) lists[Number(choice[s * 2 + r])].push(s); else dropped++;
      }
      routing[i] = traceOf('tc', probs, S, E, tcC, lists, dropped);
    }
  }
  return routing;
}

/** The DiT exported and opened in onnxruntime as a velocity field; `threads` is the job's core budget. */
export async function onnxVelocity(m: Dit, threads: number): Promise<{ field: VelocityField; release: () => Promise<void> }> {
  const rt = onnxRuntime();
  const { session } = await openOnnxSession(exportDitOnnx(m), { threads });
  const c = m.config, N = tokensPerImage(c);
  const field: VelocityField = async (x, t, context, trace) => {
    const B = t.length, S = B * N;
    const ecC = ecCapacity(S, c.experts, c.capacityFactor), tcC = Math.max(1, tcCapacity(S, c.experts, 2, c.tcCapacityFactor));
    const feeds: Record<string, Ort.Tensor> = {
      [DIT_ONNX_INPUTS.x]: new rt.Tensor('float32', x, [B, c.image * c.image]),
      [DIT_ONNX_INPUTS.t]: new rt.Tensor('float32', timestepFeatures(t, T_FEATURES), [B, T_FEATURES]),
      [DIT_ONNX_INPUTS.context]: new rt.Tensor('int64', BigInt64Array.from(context, (v) => BigInt(v)), [B, context.length / B]),
    };
    if (session.inputNames.includes(DIT_ONNX_INPUTS.ecCapacity)) feeds[DIT_ONNX_INPUTS.ecCapacity] = new rt.Tensor('int64', BigInt64Array.of(BigInt(ecC)), [1]);
    if (session.inputNames.includes(DIT_ONNX_INPUTS.tcCapacity)) feeds[DIT_ONNX_INPUTS.tcCapacity] = new rt.Tensor('int64', BigInt64Array.of(BigInt(tcC)), [1]);
    const out = await session.run(feeds);
    const v = out.v.data as Float32Array;
    return { v, routing: trace ? routingOf(m, out, S, ecC, tcC) : {} };
  };
  return { field, release: () => session.release() };
}
