// Building an ONNX graph by calls: each op returns its output's name; small constants are
// named once per graph. Shared by the exporters (decoder, DiT).
import { floatConst, int64Const, OnnxType, type AttrValue, type OnnxInitializer, type OnnxNode } from './onnx-writer';
import { toFp16Array } from './fp16';

export class GraphBuilder {
  nodes: OnnxNode[] = [];
  initializers: OnnxInitializer[] = [];
  private n = 0;
  private consts = new Map<string, string>();
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, output?: string): string {
    const out = output ?? `t${this.n++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }
  /** An op with several outputs (TopK, Split): their names in order. */
  opN(op: string, inputs: string[], count: number, attrs?: Record<string, AttrValue>): string[] {
    const outs = Array.from({ length: count }, () => `t${this.n++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }
  init(t: OnnxInitializer): string { this.initializers.push(t); return t.name; }
  ints(values: number[]): string {
    const key = `i:${values.join(',')}`;
    if (!this.consts.has(key)) this.consts.set(key, this.init(int64Const(`const_i64_${this.consts.size}`, values)));
    return this.consts.get(key)!;
  }
  byte(value: number): string {
    const key = `u8:${value}`;
    if (!this.consts.has(key)) this.consts.set(key, this.init({ name: `const_u8_${this.consts.size}`, dims: [], data: Uint8Array.of(value) }));
    return this.consts.get(key)!;
  }
  float(value: number): string {
    const key = `f:${value}`;
    if (!this.consts.has(key)) this.consts.set(key, this.init(floatConst(`const_f32_${this.consts.size}`, [value], [])));
    return this.consts.get(key)!;
  }
  /** A float weight: fp32, or fp16 cast up at run time. */
  weight(name: string, data: Float32Array, dims: number[], fp16: boolean): string {
    if (!fp16) return this.init({ name, dims, data });
    return this.op('Cast', [this.init({ name: `${name}.fp16`, dims, data: toFp16Array(data) })], { to: OnnxType.FLOAT }, name);
  }
}
