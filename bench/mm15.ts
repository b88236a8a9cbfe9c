// mm15-mixture: training steps/s of each stage (pre-training at low resolution, continual
// pre-training on digit strips at high resolution, SFT on frozen-encoder tokens) at the lab's
// model size and batch, and pictures/s through the encoder with and without image splitting.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import { MM15_CATEGORIES, makeItem, makePretrainItem, mixtureCounts, PRETRAIN_KINDS, type Mm15Sources } from '../workers/data/mm15';
import { inputsOf, itemRow, mm15Tokenizer, pretrainRow } from '../workers/data/mm15-rows';
import { answerLoss, createTileLm, disposeTileLm, encodeInputs, tileLmVariables, type TileLmRow } from '../workers/nn/tile-lm';
import { MM15_BASE, tileLmShape } from '../workers/shared-parts/mm15-base';

export async function mm15Bench() {
  await initBackend('wasm');
  const tok = mm15Tokenizer(), r = MM15_BASE;
  const m = createTileLm(tileLmShape(r, tok.vocab.length, tok.id('<eos>')), new Rng(1));
  const src: Mm15Sources = { digits: loadDataset('mnist').train, items: loadDataset('fashion-mnist').train };
  const rng = new Rng(2);
  const stepsPerSec = (batch: () => TileLmRow[], language: boolean) => {
    const opt = tf.train.adam(1e-3), vars = tileLmVariables(m, language ? 'language' : 'all');
    const step = () => { const rows = batch(); opt.minimize(() => answerLoss(m, rows).loss, false, vars); };
    for (let i = 0; i < 3; i++) step();
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) step();
    opt.dispose();
    return 20 / ((performance.now() - t0) / 1000);
  };
  const mix = mixtureCounts({ caption: 50, interleaved: 10, text: 40 }, r.batch);
  const pretrain = stepsPerSec(() => PRETRAIN_KINDS.flatMap((k) => Array.from({ length: mix[k] }, () => pretrainRow(tok, makePretrainItem(k, src, rng), 'low'))), false);
  const strip = () => makeItem('textRich', src, rng);
  const cpt = stepsPerSec(() => Array.from({ length: r.batch }, () => { const it = strip(); return pretrainRow(tok, { kind: 'caption', segments: [it.images[0], `the digits ${it.answer}`] }, 'high'); }), false);
  const sftRows = Array.from({ length: 512 }, (_, i) => {
    const row = itemRow(tok, makeItem(MM15_CATEGORIES[i % MM15_CATEGORIES.length], src, rng), 'high');
    return { ...row, pixels: undefined, tokens: encodeInputs(m, row.pixels ?? new Float32Array(0), row.inputs) };
  });
  const sft = stepsPerSec(() => Array.from({ length: r.batch }, () => sftRows[rng.int(sftRows.length)]), true);
  const picturesPerSec = (resolution: 'high' | 'low') => {
    const pics = Array.from({ length: 256 }, () => strip().images[0]);
    const t0 = performance.now();
    for (const c of pics) { const { pixels, inputs } = inputsOf([c], resolution); encodeInputs(m, pixels, inputs); }
    return pics.length / ((performance.now() - t0) / 1000);
  };
  const out = {
    backend: 'wasm', model: `tile LM d${r.dModel}, ${r.layers} layers, encoder ${r.channels} channels → 4 tokens of ${r.tokenDim} per 28-px input; batch ${r.batch}`,
    stepsPerSec: { pretrainLowRes: pretrain, cptHighRes: cpt, sftFrozenEncoder: sft },
    digitStripsPerSec: { withSplitting: picturesPerSec('high'), overviewOnly: picturesPerSec('low') },
    note: 'strips of 4–6 digits: with splitting 5–7 encoder inputs each (tiles and the overview), without 1; one strip per encoder call',
  };
  disposeTileLm(m);
  return out;
}
