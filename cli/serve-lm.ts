// What `benchtop serve-lm` serves: a model folder as given, or a built-in LM (the story LM
// shared part, trained on a miss) exported once into the cache as a folder.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { UserInputError } from '../workers/runtime/failure';
import { cacheDir } from '../workers/runtime/paths';
import { obtainPart } from '../workers/runtime/shared-parts';
import { writeHfFolder } from '../workers/runtime/hf-folder';
import { exportDecoderOnnx, readDecoderWeights } from '../workers/nn/decoder-onnx';
import { toHuggingFaceJson } from '../workers/data/bpe-tokenizer';
import { sharedPart } from '../workers/shared-parts';
import type { StoryLm } from '../workers/shared-parts/story-lm';
import type { RunContext } from '../workers/runtime/context';

const BUILT_IN = ['lm:stories:tiny', 'lm:stories:d128'];

export async function servedLmFolder(target: string, say: (s: string) => void): Promise<string> {
  if (!target.startsWith('lm:')) return resolve(target);
  if (!BUILT_IN.includes(target)) throw new UserInputError(`unknown built-in LM "${target}" (known: ${BUILT_IN.join(', ')}), or give a model folder`);
  const dir = join(cacheDir(), 'serve-lm', target.replace(/[^a-z0-9.-]+/gi, '_'));
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  const backend = await initBackend();
  const ctx = {
    tf, backend, throwIfCancelled() {}, log: (m: string) => say(m),
    progress: (phase: string, done: number, total: number) => { if (done % 200 === 0 || done === total) say(`${phase}: ${done}/${total}`); },
  } as unknown as RunContext;
  const lm = await obtainPart(sharedPart(target)!, ctx) as StoryLm;
  writeHfFolder(dir, { onnx: exportDecoderOnnx(readDecoderWeights(lm.model)), config: lm.model.config, tokenizerJson: toHuggingFaceJson(lm.tokenizer), eosTokenId: lm.tokenizer.eos, eosToken: lm.tokenizer.vocab[lm.tokenizer.eos] });
  lm.dispose();
  say(`exported ${target} to ${dir}`);
  return dir;
}
