// Named float32 tensors in one file: [u32 header length][JSON header][raw little-endian
// float32 data]. Written atomically; read back with shape and name checks.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './paths';

export interface CheckpointHeader {
  format: 'benchtop-checkpoint';
  version: 1;
  meta: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

export function saveCheckpoint(path: string, tensors: Record<string, tf.Tensor>, meta: Record<string, unknown> = {}): void {
  const entries = Object.entries(tensors);
  let offset = 0;
  const header: CheckpointHeader = { format: 'benchtop-checkpoint', version: 1, meta, tensors: [] };
  const datas = entries.map(([name, t]) => {
    const data = t.dataSync() as Float32Array;
    header.tensors.push({ name, shape: t.shape, offset, length: data.length });
    offset += data.length;
    return data;
  });
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((4 + headerBytes.length) % 4)) % 4;
  const out = new Uint8Array(4 + headerBytes.length + pad + offset * 4);
  new DataView(out.buffer).setUint32(0, headerBytes.length + pad, true);
  out.set(headerBytes, 4);
  out.fill(32, 4 + headerBytes.length, 4 + headerBytes.length + pad); // JSON-safe spaces
  const body = new Float32Array(out.buffer, 4 + headerBytes.length + pad, offset);
  let at = 0;
  for (const d of datas) { body.set(d, at); at += d.length; }
  writeFileAtomic(path, out);
}

export interface LoadedCheckpoint { meta: Record<string, unknown>; tensors: Record<string, { shape: number[]; data: Float32Array }> }

export function readCheckpoint(path: string): LoadedCheckpoint {
  const buf = readFileSync(path);
  const fail = (why: string): never => { throw new Error(`checkpoint ${path} is not readable: ${why}`); };
  if (buf.length < 4) fail('file too short');
  const headerLen = buf.readUInt32LE(0);
  if (4 + headerLen > buf.length) fail('header length past end of file');
  let header: CheckpointHeader;
  try { header = JSON.parse(buf.subarray(4, 4 + headerLen).toString('utf8')); } catch { return fail('header is not JSON'); }
  if (header.format !== 'benchtop-checkpoint' || header.version !== 1) fail('unknown format');
  const bodyOffset = 4 + headerLen;
  const total = header.tensors.reduce((s, t) => s + t.length, 0);
  if (bodyOffset + total * 4 !== buf.length) fail(`expected ${total} floats, file holds ${(buf.length - bodyOffset) / 4}`);
  const body = new Float32Array(buf.buffer.slice(buf.byteOffset + bodyOffset, buf.byteOffset + buf.length));
  const tensors: LoadedCheckpoint['tensors'] = {};
  for (const t of header.tensors) tensors[t.name] = { shape: t.shape, data: body.subarray(t.offset, t.offset + t.length) };
  return { meta: header.meta, tensors };
}

/** Loads a checkpoint into existing variables, checking every name and shape. */
export function assignCheckpoint(ckpt: LoadedCheckpoint, vars: Record<string, tf.Variable>): void {
  for (const [name, v] of Object.entries(vars)) {
    const t = ckpt.tensors[name];
    if (!t) throw new Error(`checkpoint has no tensor "${name}"`);
    if (t.shape.join('x') !== v.shape.join('x')) throw new Error(`checkpoint tensor "${name}" has shape ${t.shape.join('x')}, model wants ${v.shape.join('x')}`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
  }
}
