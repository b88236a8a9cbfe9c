// A language model of the seeded stories as a shared trained part
// (`ctx.require('lm:stories:d128')`): a byte-level BPE trained on the stories, saved as
// tokenizer.json, and the shared decoder with the report's block (4 query / 2 KV heads,
// QK-norm, RoPE, SwiGLU, tied embeddings) trained on fresh stories. The afm-ondevice lab
// distils it; any lab that wants a pretrained small LM on text with a known floor can load it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../runtime/context';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../runtime/checkpoint';
import { writeFileAtomic } from '../runtime/paths';
import { Rng } from '../runtime/rng';
import type { SharedPart } from '../runtime/shared-parts';
import { createDecoder, disposeDecoder, type Decoder, type DecoderConfig } from '../nn/decoder';
import { fromHuggingFaceJson, toHuggingFaceJson, trainBpe, type BpeTokenizer } from '../data/bpe-tokenizer';
import { sampleStory, storyCorpus } from '../data/stories';
import { storyRowSource } from '../data/story-tokens';
import { trainLm } from '../train/lm';

/** The teacher's shape (a shared decoder's) and how it is trained. */
export interface StoryLmRecipe extends Pick<DecoderConfig, 'dModel' | 'layers' | 'heads' | 'kvHeads' | 'ffnHidden' | 'maxLen'> {
  merges: number;
  /** Stories the tokenizer is trained on. */
  tokenizerStories: number;
  seqLen: number;
  batch: number;
  steps: number;
  learningRate: number;
  warmup: number;
  seed: number;
}

export interface StoryLm { model: Decoder; tokenizer: BpeTokenizer; recipe: StoryLmRecipe; trainTokens: number; trainSeconds: number; finalLoss: number; dispose(): void }

export function storyLmRecipe(overrides: Partial<StoryLmRecipe> = {}): StoryLmRecipe {
  return { merges: 400, tokenizerStories: 3000, dModel: 128, layers: 4, heads: 4, kvHeads: 2, ffnHidden: 384, maxLen: 128, seqLen: 64, batch: 16, steps: 2000, learningRate: 3e-3, warmup: 100, seed: 0, ...overrides };
}

/** A small one for smoke runs and tests (trains in seconds). */
export const TINY_STORY_LM: Partial<StoryLmRecipe> = { merges: 120, tokenizerStories: 300, dModel: 32, layers: 2, ffnHidden: 64, seqLen: 32, batch: 8, steps: 40, warmup: 5 };

export function decoderConfigOf(r: StoryLmRecipe, vocab: number): DecoderConfig {
  return { vocab, dModel: r.dModel, layers: r.layers, heads: r.heads, kvHeads: r.kvHeads, ffnHidden: r.ffnHidden, maxLen: r.maxLen, qkNorm: true, window: null, ropeBase: 10000 };
}

export function storyLmPart(overrides: Partial<StoryLmRecipe> = {}, suffix = ''): SharedPart<StoryLm> {
  const recipe = storyLmRecipe(overrides);
  const key = `lm:stories:${suffix || `d${recipe.dModel}`}`;
  const trainTokens = recipe.steps * recipe.batch * (recipe.seqLen + 1);
  return {
    key,
    recipe: recipe as unknown as Record<string, unknown>,
    codeVersion: 1,
    async build(dir, ctx: RunContext) {
      const rng = new Rng(recipe.seed);
      const tokenizer = trainBpe(storyCorpus(recipe.tokenizerStories, rng.fork('tokenizer-corpus')).text, recipe.merges);
      const model = createDecoder(decoderConfigOf(recipe, tokenizer.vocab.length), rng.fork('init'));
      const storyRng = rng.fork('stories'), rows = storyRowSource(tokenizer, () => sampleStory(storyRng), recipe.seqLen);
      const phase = `train ${key}`;
      const t0 = performance.now();
      const { lastLoss } = await trainLm(model, {
        steps: recipe.steps, learningRate: recipe.learningRate, warmup: recipe.warmup, target: { kind: 'label' }, batch: () => rows(recipe.batch),
        async report(step, loss) { ctx.progress(phase, step, recipe.steps); if (step % 100 === 0) ctx.log(`${key} step ${step}: loss ${loss.toFixed(3)}`, 'debug'); await new Promise((r) => setImmediate(r)); },
      }, ctx);
      const secs = (performance.now() - t0) / 1000;
      ctx.log(`${key} trained in ${secs.toFixed(0)} s (${recipe.steps} steps, ${trainTokens} tokens, final loss ${lastLoss.toFixed(3)})`, 'info');
      writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(toHuggingFaceJson(tokenizer)));
      saveCheckpoint(join(dir, 'lm.ckpt'), model.weights, { recipe, finalLoss: lastLoss, trainSeconds: secs, trainTokens });
      disposeDecoder(model);
    },
    async load(dir) {
      const tokenizer = fromHuggingFaceJson(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')));
      const ckpt = readCheckpoint(join(dir, 'lm.ckpt'));
      const model = createDecoder(decoderConfigOf(recipe, tokenizer.vocab.length), new Rng(0));
      assignCheckpoint(ckpt, model.weights);
      return { model, tokenizer, recipe, trainTokens, trainSeconds: Number(ckpt.meta.trainSeconds), finalLoss: Number(ckpt.meta.finalLoss), dispose: () => disposeDecoder(model) };
    },
  };
}
