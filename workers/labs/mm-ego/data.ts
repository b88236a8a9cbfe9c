// The lab's data: simulated clips in three length bins, their narrations, the questions the
// writer makes from them (balanced over the whole split), and the frozen encoder's tokens
// of every frame. Pixels are not kept: a clip is re-rendered from its own seed when the
// panel shows it.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../runtime/rng';
import type { ImageSet } from '../../runtime/datasets';
import { simulateClip, EGO_ACTIONS, EGO_OBJECTS, EGO_PLACES, type EgoClip, type EgoFrameState } from '../../data/ego/world';
import { pickLook, renderClip, renderFrame, type EgoFrameSize } from '../../data/ego/render';
import { narrate, type Narration } from '../../data/ego/narrations';
import { addOptions, answerMarginals, balanceAnswers, draftQuestions, type QaItem } from '../../data/ego/qa-writer';
import { encodeFrames, TOKENS_PER_FRAME, type FrameEncoder } from '../../nn/frame-encoder';

export const LENGTH_BINS = ['short', 'medium', 'long'] as const;
export type LengthBin = (typeof LENGTH_BINS)[number];

export interface EgoClipRecord {
  id: number;
  bin: LengthBin;
  length: number;
  /** Seed the clip is simulated and rendered from (the panel re-renders it). */
  seed: number;
  narrations: Narration[];
  /** [N · 4 · D] grid tokens, frame-major. */
  grid: Float32Array;
  /** [N · D] per-frame mean of the grid tokens. */
  mean: Float32Array;
}

export interface EgoQuestion extends QaItem { clip: number; bin: LengthBin }
export interface EgoSplit { clips: EgoClipRecord[]; questions: EgoQuestion[] }

/** A clip's own seed, from the run seed, the split and its index (independent of every other clip). */
export function clipSeed(seed: number, split: string, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${split}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The clip, its look and its frames' noise, all from its seed. */
export function clipFromSeed(seed: number, length: number, fashion: ImageSet): { clip: EgoClip; render: (size: EgoFrameSize) => Float32Array } {
  const root = new Rng(seed);
  const clip = simulateClip(length, root.fork('world'));
  const look = pickLook(fashion, root.fork('look'));
  const noiseSeed = root.fork('noise').nextU32();
  return { clip, render: (size) => renderClip(clip, look, size, new Rng(noiseSeed)) };
}

/** Per-frame labels the encoder is pre-trained on: place, held object, action, door, the two slots' objects. */
export const FRAME_HEADS = [EGO_PLACES.length, EGO_OBJECTS.length + 1, EGO_ACTIONS.length, 3, EGO_OBJECTS.length + 1, EGO_OBJECTS.length + 1] as const;

export function frameLabels(f: EgoFrameState): number[] {
  const obj = (o: string | null | undefined) => (o ? EGO_OBJECTS.indexOf(o as never) + 1 : 0);
  const slotsShown = f.open !== false && !((f.action === 'open' || f.action === 'close') && f.phase === 0) && !(f.action === 'walk' && f.phase === 0);
  return [
    EGO_PLACES.indexOf(f.place), obj(f.held), EGO_ACTIONS.indexOf(f.action), f.open === null ? 0 : f.open ? 2 : 1,
    slotsShown ? obj(f.visible[0]) : 0, slotsShown ? obj(f.visible[1]) : 0,
  ];
}

/** Frames with their labels for pre-training the encoder, from clips of their own. */
export function pretrainFrames(count: number, size: EgoFrameSize, fashion: ImageSet, seed: number): { frames: Float32Array; labels: Int32Array[] } {
  const frames = new Float32Array(count * size * size);
  const labels = FRAME_HEADS.map(() => new Int32Array(count));
  let n = 0;
  for (let c = 0; n < count; c++) {
    const s = clipSeed(seed, 'pretrain', c);
    const root = new Rng(s);
    const clip = simulateClip(32, root.fork('world'));
    const look = pickLook(fashion, root.fork('look'));
    const noise = root.fork('noise');
    for (const f of clip.frames) {
      if (n >= count) break;
      frames.set(renderFrame(f, look, size, noise), n * size * size);
      frameLabels(f).forEach((l, h) => { labels[h][n] = l; });
      n++;
    }
  }
  return { frames, labels };
}

/** Grid tokens and their per-frame mean for a clip's frames. */
export function clipTokens(encoder: FrameEncoder, pixels: Float32Array, length: number): { grid: Float32Array; mean: Float32Array } {
  const S = encoder.shape.size;
  return tf.tidy(() => {
    const grid = encodeFrames(encoder, tf.tensor2d(pixels, [length, S * S]));
    return { grid: grid.dataSync() as Float32Array, mean: grid.mean(1).dataSync() as Float32Array };
  });
}

export interface SplitSpec { clipsPerBin: number; lengths: Record<LengthBin, number>; size: EgoFrameSize }

/**
 * One split: clipsPerBin clips in each bin, every clip's questions, then answers balanced
 * per kind and options drawn over the whole split. `onClip` reports progress.
 */
export function buildSplit(split: string, spec: SplitSpec, seed: number, fashion: ImageSet, encoder: FrameEncoder, onClip?: (done: number, total: number) => void): EgoSplit {
  const clips: EgoClipRecord[] = [];
  const drafts: (ReturnType<typeof draftQuestions>[number] & { clip: number; bin: LengthBin })[] = [];
  const total = spec.clipsPerBin * LENGTH_BINS.length;
  for (const bin of LENGTH_BINS) {
    for (let i = 0; i < spec.clipsPerBin; i++) {
      const id = clips.length, length = spec.lengths[bin];
      const s = clipSeed(seed, `${split}:${bin}`, i);
      const { clip, render } = clipFromSeed(s, length, fashion);
      const narrations = narrate(clip);
      const { grid, mean } = clipTokens(encoder, render(spec.size), length);
      clips.push({ id, bin, length, seed: s, narrations, grid, mean });
      for (const d of draftQuestions(narrations, length)) drafts.push({ ...d, clip: id, bin });
      onClip?.(clips.length, total);
    }
  }
  const rng = new Rng(clipSeed(seed, `${split}:questions`, 0));
  const balanced = balanceAnswers(drafts, rng);
  return { clips, questions: addOptions(balanced, answerMarginals(balanced), rng) };
}

export const gridOf = (c: EgoClipRecord, frame: number, tokenDim: number) => c.grid.subarray(frame * TOKENS_PER_FRAME * tokenDim, (frame + 1) * TOKENS_PER_FRAME * tokenDim);
export const meanOf = (c: EgoClipRecord, frame: number, tokenDim: number) => c.mean.subarray(frame * tokenDim, (frame + 1) * tokenDim);
