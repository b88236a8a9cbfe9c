// Checkpoints, ONNX sessions and the shared-part cache: real round trips, and bad input
// rejected with a message that names the problem.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../workers/runtime/checkpoint';
import { openOnnxSession, onnxRuntime } from '../workers/runtime/onnx';
import { encodeOnnxModel } from '../workers/runtime/onnx-writer';
import { obtainPart, partDir, type SharedPart } from '../workers/runtime/shared-parts';
import { testContext } from './helpers/context';

const dir = mkdtempSync(join(tmpdir(), 'bt-io-'));

describe('checkpoints', () => {
  it('round-trip names, shapes and values exactly', () => {
    const a = tf.tensor2d([[1, 2.5], [-3, 4e-7]]), b = tf.tensor1d([9, 8, 7]);
    const path = join(dir, 'c.ckpt');
    saveCheckpoint(path, { a, b }, { note: 'x' });
    const c = readCheckpoint(path);
    expect(c.meta).toEqual({ note: 'x' });
    expect(c.tensors.a.shape).toEqual([2, 2]);
    expect(Array.from(c.tensors.a.data)).toEqual(Array.from(a.dataSync()));
    const v = { a: tf.variable(tf.zeros([2, 2])), b: tf.variable(tf.zeros([3])) };
    assignCheckpoint(c, v);
    expect(Array.from(v.b.dataSync())).toEqual([9, 8, 7]);
    expect(() => assignCheckpoint(c, { a: tf.variable(tf.zeros([3, 2])) })).toThrow(/shape 2x2, model wants 3x2/);
    expect(() => assignCheckpoint(c, { z: tf.variable(tf.zeros([1])) })).toThrow(/no tensor "z"/);
    tf.dispose([a, b, v.a, v.b]);
  });
  it('a truncated or foreign file gets a message naming the problem', () => {
    const path = join(dir, 'c.ckpt');
    const bad = join(dir, 'bad.ckpt');
    writeFileSync(bad, Buffer.from(require('node:fs').readFileSync(path)).subarray(0, 40));
    expect(() => readCheckpoint(bad)).toThrow(/is not readable: /);
    writeFileSync(bad, 'hello world, not a checkpoint');
    expect(() => readCheckpoint(bad)).toThrow(/is not readable/);
  });
});

describe('ONNX', () => {
  it('a model we write runs in onnxruntime with the expected numbers', async () => {
    // y = relu(x · W + b)
    const W = Float32Array.from([1, -1, 2, 0.5, 0, 1]); // [3, 2]
    const bias = Float32Array.from([0.5, -10]);
    const bytes = encodeOnnxModel({
      name: 'tiny', inputs: [{ name: 'x', shape: ['batch', 3] }], outputs: [{ name: 'y', shape: ['batch', 2] }],
      initializers: [{ name: 'W', dims: [3, 2], data: W }, { name: 'b', dims: [2], data: bias }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] }, { op: 'Add', inputs: ['xw', 'b'], outputs: ['z'] }, { op: 'Relu', inputs: ['z'], outputs: ['y'] }],
    });
    const { session, info } = await openOnnxSession(bytes);
    expect(info.inputNames).toEqual(['x']);
    const ort = onnxRuntime();
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, -1, 0, 0]), [2, 3]) });
    // row 1: [1*1+2*2+3*0, 1*-1+2*0.5+3*1] + b = [5.5, -7] -> relu [5.5, 0]; row 2: [-1+0.5, 1-10] -> [0, 0]
    expect(Array.from(out.y.data as Float32Array)).toEqual([5.5, 0, 0, 0]);
    await session.release();
  });
  it('a corrupt file, a missing file and an empty buffer get clear messages', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'this is not a protobuf at all, just text');
    await expect(openOnnxSession(bad)).rejects.toThrow(/bad.onnx is not a usable ONNX model: /);
    await expect(openOnnxSession(join(dir, 'nope.onnx'))).rejects.toThrow(/file not found/);
    await expect(openOnnxSession(new Uint8Array(3))).rejects.toThrow(/too short/);
  });
});

describe('shared parts', () => {
  it('trains once on a miss, then loads from the cache keyed by recipe and code version', async () => {
    const { ctx, home } = await testContext(1, { home: mkdtempSync(join(tmpdir(), 'bt-parts-')) });
    let builds = 0;
    const part = (lr: number): SharedPart<string> => ({
      key: 'test:part', recipe: { lr }, codeVersion: 1,
      async build(d) { builds++; writeFileSync(join(d, 'w.txt'), `lr=${lr}`); },
      async load(d) { return require('node:fs').readFileSync(join(d, 'w.txt'), 'utf8'); },
    });
    expect(await obtainPart(part(0.1), ctx, home)).toBe('lr=0.1');
    expect(await obtainPart(part(0.1), ctx, home)).toBe('lr=0.1');
    expect(builds).toBe(1);
    expect(await obtainPart(part(0.2), ctx, home)).toBe('lr=0.2'); // another recipe, another entry
    expect(builds).toBe(2);
    expect(partDir(part(0.1), home)).not.toBe(partDir(part(0.2), home));
    // Two concurrent requests build once.
    const both = await Promise.all([obtainPart(part(0.3), ctx, home), obtainPart(part(0.3), ctx, home)]);
    expect(both).toEqual(['lr=0.3', 'lr=0.3']);
    expect(builds).toBe(3);
    expect(existsSync(`${partDir(part(0.3), home)}.lock`)).toBe(false);
  });
  it('a lock held by another live process is waited for, however long it is silent; a dead holder\'s is cleared', async () => {
    const { ctx, home } = await testContext(1, { home: mkdtempSync(join(tmpdir(), 'bt-parts3-')) });
    let builds = 0;
    const part: SharedPart<string> = { key: 'test:held', recipe: {}, codeVersion: 1, async build(d) { builds++; writeFileSync(join(d, 'w.txt'), 'ok'); }, async load(d) { return readFileSync(join(d, 'w.txt'), 'utf8'); } };
    const lock = `${partDir(part, home)}.lock`;
    const holder = spawn('sleep', ['60']);
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(lock, 'owner'), `${holder.pid}:0:other`);
    // Silent for 40 s: a slow builder on a loaded machine, not a lost one.
    const past = new Date(Date.now() - 40_000);
    utimesSync(join(lock, 'owner'), past, past);
    const got = obtainPart(part, ctx, home);
    await new Promise((r) => setTimeout(r, 1500));
    expect(builds).toBe(0);
    expect(readFileSync(join(lock, 'owner'), 'utf8')).toBe(`${holder.pid}:0:other`);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect(await got).toBe('ok');
    expect(builds).toBe(1);
    expect(existsSync(lock)).toBe(false);
  }, 30_000);

  it('a failed build leaves no entry and no lock', async () => {
    const { ctx, home } = await testContext(1, { home: mkdtempSync(join(tmpdir(), 'bt-parts2-')) });
    const part: SharedPart<string> = { key: 'test:bad', recipe: {}, codeVersion: 1, async build() { throw new Error('boom'); }, async load() { return 'x'; } };
    await expect(obtainPart(part, ctx, home)).rejects.toThrow('boom');
    expect(existsSync(`${partDir(part, home)}.lock`)).toBe(false);
    expect(existsSync(join(partDir(part, home), 'DONE'))).toBe(false);
  });
});
