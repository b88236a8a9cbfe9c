// A minimal ONNX (protobuf) writer: graphs of plain ops with float, fp16 and integer
// initializers, enough to export our models op-for-op and run them in onnxruntime. Field numbers are those of
// onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, ...).

class ProtoWriter {
  private parts: number[] = [];
  varint(field: number, v: number | bigint): this { this.tag(field, 0); this.rawVarint(BigInt(v)); return this; }
  bytes(field: number, b: Uint8Array): this { this.tag(field, 2); this.rawVarint(BigInt(b.length)); for (const x of b) this.parts.push(x); return this; }
  string(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  message(field: number, w: ProtoWriter): this { return this.bytes(field, w.finish()); }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.parts.push(x);
    return this;
  }
  finish(): Uint8Array { return Uint8Array.from(this.parts); }
  private tag(field: number, wire: number) { this.rawVarint(BigInt((field << 3) | wire)); }
  private rawVarint(v: bigint) {
    if (v < 0n) v = BigInt.asUintN(64, v); // negative int64 as ten-byte two's complement
    do { let byte = Number(v & 0x7fn); v >>= 7n; if (v) byte |= 0x80; this.parts.push(byte); } while (v);
  }
}

export const OnnxType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;

export type AttrValue = number | number[] | string | { ints: number[] } | { floats: number[] };
export interface OnnxNode { op: string; inputs: string[]; outputs: string[]; name?: string; attrs?: Record<string, AttrValue>; domain?: string }
export interface OnnxValue { name: string; elemType?: number; shape: (number | string)[] }
/** An initializer's element type follows its array: Uint16Array holds fp16 bits (see fp16.ts). */
export interface OnnxInitializer { name: string; dims: number[]; data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array }

export function elementTypeOf(data: OnnxInitializer['data']): number {
  if (data instanceof Float32Array) return OnnxType.FLOAT;
  if (data instanceof BigInt64Array) return OnnxType.INT64;
  if (data instanceof Int32Array) return OnnxType.INT32;
  if (data instanceof Uint8Array) return OnnxType.UINT8;
  if (data instanceof Int8Array) return OnnxType.INT8;
  return OnnxType.FLOAT16;
}

/** Small constant initializers, named once per graph by the caller. */
export const int64Const = (name: string, values: readonly number[], dims: number[] = [values.length]): OnnxInitializer => ({ name, dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });
export const floatConst = (name: string, values: readonly number[], dims: number[] = [values.length]): OnnxInitializer => ({ name, dims, data: Float32Array.from(values) });
export interface OnnxGraph { name: string; nodes: OnnxNode[]; inputs: OnnxValue[]; outputs: OnnxValue[]; initializers?: OnnxInitializer[]; opset?: number }

function valueInfo(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, v.elemType ?? OnnxType.FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function attribute(name: string, v: AttrValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof v === 'string') return a.string(4, v).varint(20, 3);
  if (typeof v === 'number') return Number.isInteger(v) ? a.varint(3, v).varint(20, 2) : a.float(2, v).varint(20, 1);
  if (Array.isArray(v) || 'ints' in v) { const ints = Array.isArray(v) ? v : v.ints; for (const i of ints) a.varint(8, i); return a.varint(20, 7); }
  for (const f of v.floats) a.float(7, f);
  return a.varint(20, 6);
}

function tensor(t: OnnxInitializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (expected !== t.data.length) throw new RangeError(`initializer ${t.name}: dims ${t.dims.join('×')} need ${expected} values, got ${t.data.length}`);
  return w.varint(2, elementTypeOf(t.data)).string(8, t.name).bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

export function encodeOnnxModel(g: OnnxGraph, producer = 'benchtop'): Uint8Array {
  const graph = new ProtoWriter();
  g.nodes.forEach((n) => {
    const node = new ProtoWriter();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    // Node names are optional in ONNX; left out unless given, they cost bytes in a graph of thousands of small nodes.
    if (n.name) node.string(3, n.name);
    node.string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, attribute(k, v));
    if (n.domain) node.string(7, n.domain);
    graph.message(1, node);
  });
  graph.string(2, g.name);
  for (const t of g.initializers ?? []) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  return new ProtoWriter()
    .varint(1, 8) // IR version 8
    .string(2, producer)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').varint(2, g.opset ?? 17))
    .finish();
}
