// A failed run names its cause: running out of the wasm backend's memory reads as that,
// not as "RuntimeError: Aborted()".
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { describeFailure, isOutOfMemory, UserInputError } from '../workers/runtime/failure';
import { TokenizerInputError } from '../workers/data/bpe-tokenizer';

describe('failure messages', () => {
  it('a real over-4-GB tensor on wasm is named as out of memory, with what to reduce', async () => {
    await initBackend('wasm');
    let caught: unknown;
    try { tf.zeros([1_100_000_000]); } catch (err) { caught = err; }
    expect(caught).toBeDefined();
    expect(isOutOfMemory(caught)).toBe(true);
    expect(describeFailure(caught).split('\n')[0]).toMatch(/^out of memory: the model needs more than wasm's 4 GB .*reduce the batch size/);
  });
  it('wasm aborts are out of memory; other errors keep their own message and stack', () => {
    expect(describeFailure(new WebAssembly.RuntimeError('Aborted()')).split('\n')[0]).toMatch(/^out of memory: .*"Aborted\(\)"/);
    expect(describeFailure(new WebAssembly.RuntimeError('memory access out of bounds'))).toMatch(/^out of memory/);
    const plain = new Error('epochs must be positive');
    expect(describeFailure(plain)).toBe(plain.stack);
    expect(describeFailure(new RangeError('k must be in 1..32'))).not.toMatch(/out of memory/);
  });
  it('a problem with the user\'s input is stored as its message alone, without a stack', () => {
    expect(describeFailure(new UserInputError('text file /no/such.txt does not exist'))).toBe('text file /no/such.txt does not exist');
    expect(describeFailure(new TokenizerInputError('notes.txt is empty'))).toBe('notes.txt is empty');
  });
});
