// The safetensors format (8-byte little-endian header length, a JSON header of dtype /
// shape / byte offsets, then the raw tensors), for adapters other tools can load.

export interface SafeTensor { dtype: 'F32' | 'F16'; shape: number[]; /** F16 as raw fp16 bits. */ data: Float32Array | Uint16Array }

export function writeSafetensors(tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new RangeError(`safetensors ${name}: shape ${t.shape.join('×')} needs ${expected} values, got ${t.data.length}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export class SafetensorsError extends Error {}

/** Reads a safetensors file back (F32 and F16 only), checking every offset against the file. */
export function readSafetensors(bytes: Uint8Array): Record<string, SafeTensor> {
  if (bytes.byteLength < 8) throw new SafetensorsError('file is too short to be safetensors');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n > bytes.byteLength - 8) throw new SafetensorsError('header length runs past the end of the file');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try { header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))); } catch { throw new SafetensorsError('header is not JSON'); }
  const body = bytes.subarray(8 + n);
  const out: Record<string, SafeTensor> = {};
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = h.data_offsets ?? [];
    if (!(h.dtype === 'F32' || h.dtype === 'F16') || !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > body.byteLength || a > b) throw new SafetensorsError(`tensor ${name} has a bad dtype or offsets`);
    const copy = body.slice(a, b);
    out[name] = { dtype: h.dtype, shape: h.shape, data: h.dtype === 'F32' ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer) };
  }
  return out;
}
