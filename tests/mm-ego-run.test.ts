// mm-ego smoke run end to end, in a file of its own (vitest runs each file in its own
// process, so another file's overrun cannot touch this one's tensor count).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mmEgoSpec } from '../common/labs/mm-ego';
import { resolveParams } from '../common/lab';
import { mmEgoLab } from '../workers/labs/mm-ego/lab';
import { disposeEgoModel, type EgoModel } from '../workers/labs/mm-ego/model';
import { disposeFrameEncoder, type FrameEncoder } from '../workers/nn/frame-encoder';
import { narrate, toEgo4dJson } from '../workers/data/ego/narrations';
import { simulateClip } from '../workers/data/ego/world';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

describe('mm-ego lab (smoke)', () => {
  it('runs end to end: metrics, checks, the MDA table, the player\'s frames, a question of one\'s own, the data engine on a file; no tensor leaks', async () => {
    const { ctx, events, live } = await testContext(4);
    const p = resolveParams(mmEgoSpec, 'smoke', {});
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    const r = await mmEgoLab.run(p, ctx);
    for (const k of mmEgoSpec.metrics) expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    expect(Object.keys(r.checks).sort()).toEqual([...mmEgoSpec.checks].sort());
    expect(r.metrics.tokensPerAnswer_pointer).toBe(p.k * 4);
    const sample = <T>(kind: string) => (events.filter((e) => e.type === 'sample' && e.kind === kind).at(-1) as { data: T } | undefined)?.data;
    const bins = sample<{ bin: string; questions: number; mda: Record<string, number>; rawAcc: Record<string, number> }[]>('bins')!;
    const all = bins.find((b) => b.bin === 'all')!;
    expect(all.questions).toBe(r.metrics.testQuestions);
    expect(bins.filter((b) => b.bin !== 'all').reduce((s, b) => s + b.questions, 0)).toBe(all.questions);
    expect(r.metrics.mda_pointer).toBe(all.mda.pointer);
    expect(r.metrics.blindAcc).toBe(all.rawAcc.blind);
    // The data engine balanced the answer letters over each split.
    const dataset = sample<{ letters: number[]; trainQuestions: number; testQuestions: number }>('dataset')!;
    expect(dataset.letters.reduce((a, b) => a + b, 0)).toBe(dataset.trainQuestions + dataset.testQuestions);
    expect(Math.max(...dataset.letters) - Math.min(...dataset.letters)).toBeLessThanOrEqual(2);

    const contract = contractChecker(mmEgoLab);
    const clips = sample<{ index: number; length: number; questions: { selected: number[]; scores: number[] }[] }[]>('clips')!;
    expect(clips.length).toBe(p.clipsShown);
    for (const c of clips) for (const q of c.questions) { expect(q.selected).toHaveLength(p.k); expect(q.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4); }
    const frames = (await contract.query('frames', { clip: clips[0].index }, live())) as { size: number; frames: number[][] };
    expect(frames.size).toBe(32);
    expect(frames.frames).toHaveLength(clips[0].length);
    expect(frames.frames[0]).toHaveLength(32 * 32);
    await expect(contract.query('frames', { clip: 99999 }, live())).rejects.toThrow(/clip 99999 is not in the test set/);
    const asked = (await contract.query('ask', { clip: clips[0].index, kind: 'where-left', subject: 'Bag' }, live())) as { question: string; options: string[]; selected: number[] };
    expect(asked.question).toBe('where did i leave the bag ?');
    expect(asked.options).toHaveLength(4);
    expect(asked.selected).toHaveLength(p.k);
    await expect(contract.query('ask', { clip: clips[0].index, kind: 'count-open', subject: 'desk' }, live())).rejects.toThrow(/"desk" cannot be asked about here: count-open names a container \(drawer, fridge\)/);
    await expect(contract.query('ask', { clip: 0, kind: 'what-put', subject: '' }, live())).rejects.toThrow(/bad arguments to query "ask": subject: a place/);
    const file = JSON.stringify(toEgo4dJson(Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`clip-${i}`, narrate(simulateClip(64, new Rng(100 + i)))]))));
    const written = (await contract.query('writeQa', { text: file }, live())) as { videos: { uid: string; questions: { options: string[]; answerIndex: number }[] }[] };
    expect(written.videos.map((v) => v.uid)).toEqual(['clip-1', 'clip-2', 'clip-3', 'clip-4', 'clip-5', 'clip-6']);
    expect(written.videos.some((v) => v.questions.length > 0)).toBe(true);
    await expect(contract.query('writeQa', { text: '{"v": {"narration_pass_1": {"narrations": [{"timestamp_sec": "3", "narration_text": "#C C opens the door"}]}}}' }, live()))
      .rejects.toThrow(/narration file: not Ego4D's narration layout .*: v\.narration_pass_1\.narrations\[0\]\.timestamp_sec: /);
    await expect(contract.query('writeQa', { text: 'not json' }, live())).rejects.toThrow(/narration file: not JSON/);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    // After a restart: the models from the checkpoint and the test clips rebuilt from the seed answer as the live ones did.
    const loaded = await mmEgoLab.loadModel!(ctx.runDir, ctx);
    const again = (await contract.query('ask', { clip: clips[0].index, kind: 'where-left', subject: 'bag' }, loaded)) as typeof asked;
    expect(again).toEqual(asked);
    expect(((await contract.query('frames', { clip: clips[0].index }, loaded)) as typeof frames).frames).toEqual(frames.frames);
    const lm2 = loaded as { encoder: FrameEncoder; models: Record<string, EgoModel> };
    disposeFrameEncoder(lm2.encoder);
    for (const m of Object.values(lm2.models)) disposeEgoModel(m);

    const lm = live() as { encoder: FrameEncoder; models: Record<string, EgoModel> };
    disposeFrameEncoder(lm.encoder);
    for (const m of Object.values(lm.models)) disposeEgoModel(m);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => resolveParams(mmEgoSpec, 'smoke', { shortFrames: 40 })).toThrow(/mediumFrames.*bins must grow/);
    expect(() => resolveParams(mmEgoSpec, 'smoke', { k: 16 })).toThrow(/k must be below/);
    expect(() => resolveParams(mmEgoSpec, 'smoke', { frameSize: 40 })).toThrow(/frameSize.*32 or 48 pixels wide/);
  }, 240_000);

  it('trains its three models side by side in worker threads when the job has the cores, to the very results of one thread', async () => {
    const p = resolveParams(mmEgoSpec, 'smoke', {});
    const run = async (cores: number) => {
      const { ctx, events, live } = await testContext(4, { cores });
      const r = await mmEgoLab.run(p, ctx);
      const m = live() as { models: Record<string, EgoModel>; encoder: FrameEncoder };
      for (const model of Object.values(m.models)) disposeEgoModel(model);
      disposeFrameEncoder(m.encoder);
      return { r, events };
    };
    const one = await run(1), two = await run(2);
    const phases = (events: typeof one.events) => [...new Set(events.flatMap((e) => (e.type === 'progress' ? [e.phase] : [])))];
    expect(phases(one.events)).toContain('train the pointer model');
    expect(phases(two.events)).toContain('train the three models on 2 cores');
    expect(phases(two.events)).not.toContain('train the pointer model');
    const curve = (events: typeof one.events, name: string) => events.filter((e) => e.type === 'metric' && e.name === name).map((e) => (e as { value: number }).value);
    expect(curve(two.events, 'pointer.bce').length).toBeGreaterThan(0);
    expect(curve(two.events, 'pointer.bce')).toEqual(curve(one.events, 'pointer.bce'));
    expect(curve(two.events, 'allFrames.answer')).toEqual(curve(one.events, 'allFrames.answer'));
    for (const k of ['mda_pointer', 'mda_uniform', 'mda_allFrames', 'blindAcc', 'keyFrameRecallAtK']) expect(two.r.metrics[k], k).toBe(one.r.metrics[k]);
  }, 180_000);
});
