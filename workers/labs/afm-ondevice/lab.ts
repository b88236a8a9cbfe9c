// afm-ondevice: Apple's on-device recipe at laptop scale. A cached teacher on the stories
// (or one trained here on the user's text); an FFN-pruned student distilled on
// 0.9 · teacher top-1 + 0.1 · label beside a student trained alone; 4-bit and mixed 2/4-bit
// palettes (a Fisher-guided plan against random placement); a recovery LoRA on the frozen
// mixed model; every variant exported to ONNX and run in onnxruntime beside TensorFlow.js.
import { existsSync, readdirSync, readFileSync, statSync, copyFileSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AFM_VARIANTS, afmOndeviceQueries, afmOndeviceSamples, afmOndeviceSpec, type AfmOndeviceParams, type AfmVariant } from '../../../common/labs/afm-ondevice';
import { sampleEmitter } from '../../../common/lab-contract';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../../runtime/checkpoint';
import { Rng } from '../../runtime/rng';
import { addLora, createDecoder, disposeDecoder, generateStream, loraVariables, PROJECTIONS, type Decoder, type DecoderConfig } from '../../nn/decoder';
import { exportDecoderOnnx, onnxDecoderShape, readDecoderWeights } from '../../nn/decoder-onnx';
import { fromHuggingFaceJson, readUtf8Text, toHuggingFaceJson, trainBpe, type BpeTokenizer } from '../../data/bpe-tokenizer';
import { sampleStory } from '../../data/stories';
import { entropyFloor, scoredStoryRows, storyRowSource } from '../../data/story-tokens';
import { OnnxDecoder } from '../../runtime/onnx-generate';
import { writeHfFolder } from '../../runtime/hf-folder';
import { toFp16Array, roundToFp16 } from '../../runtime/fp16';
import { writeSafetensors } from '../../runtime/safetensors';
import { writeFileAtomic } from '../../runtime/paths';
import { UserInputError } from '../../runtime/failure';
import { trainLm } from '../../train/lm';
import { decoderConfigOf, storyLmRecipe } from '../../shared-parts/story-lm';
import { GROUP_COLUMNS } from '../../nn/palettize';
import { cloneDecoder, prunedWidth, pruneFfn, setWeight } from './student';
import { allocation, bitsPerWeightAll, fisherDiagonal, fourBitPlan, mixedPlan, palettizedVariant, planGroups, randomPlan } from './quantize';
import { klFrom, maxLogitDiff, ortSpeed, scoreModel, tfjsSpeed, type ValidationRows } from './evaluate';

const PHASES = {
  teacher: 'teacher', validation: 'validation text', distil: 'distil the pruned student', scratch: 'train the scratch student',
  palettize: 'palettize (plan and control)', lora: 'train the recovery LoRA', export: 'export to ONNX', speed: 'measure speed',
} as const;

/** Largest user text read (the run keeps its tokens in memory). */
const MAX_TEXT_BYTES = 20 * 2 ** 20;

interface Generation { text: string; tokens: number[]; promptTokens: number; done: boolean; ttftMs: number | null; tokensPerSec: number | null; error: string | null }
interface LiveModel {
  params: AfmOndeviceParams;
  tokenizer: BpeTokenizer;
  variants: Record<AfmVariant, Decoder>;
  folders: Record<AfmVariant, string>;
  sessions: Partial<Record<AfmVariant, Promise<OnnxDecoder>>>;
  generations: Map<number, Generation>;
}

interface TextSource { tokenizer: BpeTokenizer; teacher: Decoder; teacherTokens: number; trainRows: (n: number) => number[][]; val: ValidationRows; floor: number | null }

function reporter(ctx: RunContext, phase: string, total: number, metric: string) {
  return async (step: number, loss: number) => {
    ctx.metric(step, metric, loss);
    ctx.progress(phase, step, total);
    ctx.throwIfCancelled();
    await new Promise((r) => setImmediate(r));
  };
}

async function storiesSource(p: AfmOndeviceParams, ctx: RunContext): Promise<TextSource> {
  const key = p.teacher === 'tiny' ? 'lm:stories:tiny' : 'lm:stories:d128';
  if (!ctx.isCached(key)) ctx.log(`${key} is not cached yet: training it first (once; later runs load it)`, 'warn');
  ctx.progress(PHASES.teacher, 0, 1);
  const lm = await ctx.require(key);
  ctx.progress(PHASES.teacher, 1, 1);
  ctx.progress(PHASES.validation, 0, 1);
  const rng = new Rng(p.seed);
  const valRng = rng.fork('validation');
  const val = scoredStoryRows(Array.from({ length: p.valStories }, () => sampleStory(valRng)), lm.tokenizer, p.seqLen);
  if (!val.rows.length) throw new RangeError(`${p.valStories} validation stories do not fill one row of ${p.seqLen + 1} tokens; raise valStories`);
  ctx.progress(PHASES.validation, 1, 1);
  const trainRng = rng.fork('train-stories');
  return { tokenizer: lm.tokenizer, teacher: lm.model, teacherTokens: lm.trainTokens, trainRows: storyRowSource(lm.tokenizer, () => sampleStory(trainRng), p.seqLen), val, floor: entropyFloor(val) };
}

/** The user's text: tokenizer and teacher trained here, 90 % to train on, the last 10 % to validate. */
async function fileSource(p: AfmOndeviceParams, ctx: RunContext): Promise<TextSource> {
  const path = p.textFile;
  if (!existsSync(path)) throw new UserInputError(`text file ${path} does not exist`);
  const st = statSync(path);
  if (!st.isFile()) throw new UserInputError(`${path} is not a file`);
  if (st.size > MAX_TEXT_BYTES) throw new UserInputError(`${path} is ${(st.size / 2 ** 20).toFixed(1)} MiB; the lab reads text files up to ${MAX_TEXT_BYTES / 2 ** 20} MiB`);
  const text = readUtf8Text(readFileSync(path), path);
  const recipe = storyLmRecipe(p.teacher === 'tiny' ? { dModel: 32, layers: 2, ffnHidden: 64, steps: 40 } : { steps: 1000 });
  const tokenizer = trainBpe(text, recipe.merges);
  const ids = tokenizer.encode(text);
  const L = p.seqLen;
  const cut = Math.floor(ids.length * 0.9);
  if (cut < 4 * (L + 1) || ids.length - cut < L + 1) throw new UserInputError(`${path} gives ${ids.length} tokens; the lab needs at least ${Math.ceil(10 * (L + 1) / 0.9)} (make seqLen smaller or the file longer)`);
  const rng = new Rng(p.seed).fork('file-rows');
  const trainRows = (n: number) => Array.from({ length: n }, () => { const s = rng.int(cut - L - 1); return ids.slice(s, s + L + 1); });
  const valRows: number[][] = [];
  for (let s = cut; s + L + 1 <= ids.length && valRows.length < 256; s += L + 1) valRows.push(ids.slice(s, s + L + 1));
  const teacher = createDecoder(decoderConfigOf(recipe, tokenizer.vocab.length), new Rng(p.seed).fork('file-teacher'));
  await trainLm(teacher, {
    steps: recipe.steps, learningRate: recipe.learningRate, warmup: recipe.warmup, target: { kind: 'label' },
    batch: () => trainRows(recipe.batch), report: reporter(ctx, PHASES.teacher, recipe.steps, 'teacher.loss'),
  }, ctx);
  return { tokenizer, teacher, teacherTokens: recipe.steps * recipe.batch * (L + 1), trainRows, val: { rows: valRows }, floor: null };
}

/** Adapters of the mixed variant: A, B per projection. */
function loraTensors(d: Decoder): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [name, a] of Object.entries(d.lora)) { out[`${name}.A`] = a.A; out[`${name}.B`] = a.B; }
  return out;
}

function writeVariantFolder(dir: string, v: Decoder, tok: BpeTokenizer, palettes: Parameters<typeof exportDecoderOnnx>[0]['palettes'], variant: AfmVariant): number {
  const onnx = exportDecoderOnnx({ ...readDecoderWeights(v), palettes, fp16: variant !== 'fp32' });
  writeHfFolder(dir, { onnx, config: v.config, tokenizerJson: toHuggingFaceJson(tok), eosTokenId: tok.eos, eosToken: tok.vocab[tok.eos], extra: { variant } });
  if (variant === 'mixedLora') {
    const tensors: Parameters<typeof writeSafetensors>[0] = {};
    const rank = Object.values(v.lora)[0].A.shape[1] as number;
    for (const [name, a] of Object.entries(v.lora)) {
      tensors[`${name}.lora_A`] = { dtype: 'F16', shape: a.A.shape, data: toFp16Array(a.A.dataSync()) };
      tensors[`${name}.lora_B`] = { dtype: 'F16', shape: a.B.shape, data: toFp16Array(a.B.dataSync()) };
    }
    writeFileAtomic(join(dir, 'lora', 'adapter_model.safetensors'), writeSafetensors(tensors, { format: 'benchtop', layout: 'y = x·W + scale·(x·A)·B' }));
    writeFileAtomic(join(dir, 'lora', 'adapter_config.json'), JSON.stringify({ r: rank, lora_alpha: Object.values(v.lora)[0].scale * rank, target_modules: [...PROJECTIONS], base: 'onnx/model.onnx (palettized, frozen)' }, null, 2));
  }
  return onnx.byteLength;
}

function saveModels(ctx: RunContext, p: AfmOndeviceParams, variants: Record<AfmVariant, Decoder>, tok: BpeTokenizer) {
  const named: Record<string, tf.Variable> = {};
  for (const v of AFM_VARIANTS) for (const [k, w] of Object.entries(variants[v].weights)) named[`${v}.${k}`] = w;
  for (const [k, w] of Object.entries(loraTensors(variants.mixedLora))) named[`mixedLora.lora.${k}`] = w;
  const lora = Object.values(variants.mixedLora.lora)[0];
  saveCheckpoint(ctx.checkpointPath('afm-ondevice'), named, { params: p, config: variants.fp32.config, loraRank: lora.A.shape[1], loraScale: lora.scale, tokenizer: toHuggingFaceJson(tok) });
}

export const afmOndeviceLab: LabDefinition<typeof afmOndeviceSpec.params> = {
  spec: afmOndeviceSpec,
  async run(p, ctx) {
    const sample = sampleEmitter(afmOndeviceSamples, ctx.emit);
    ctx.plan(Object.values(PHASES));
    const src = p.textFile ? await fileSource(p, ctx) : await storiesSource(p, ctx);
    const { tokenizer: tok, teacher, val } = src;
    const rng = new Rng(p.seed);
    const teacherScores = scoreModel(teacher, val);

    // Students: pruned + distilled, and the same shape trained alone for the same steps.
    const width = prunedWidth(teacher.config.ffnHidden, p.pruneRatio);
    const studentConfig: DecoderConfig = { ...teacher.config, ffnHidden: width };
    const distilled = pruneFfn(teacher, width);
    const scratch = createDecoder(studentConfig, rng.fork('scratch-init'));
    const common = { steps: p.studentSteps, learningRate: p.learningRate, warmup: Math.min(50, Math.ceil(p.studentSteps / 10)) };
    await trainLm(distilled, { ...common, target: { kind: p.distillTarget, teacher, labelWeight: 0.1 }, batch: () => src.trainRows(p.batch), report: reporter(ctx, PHASES.distil, p.studentSteps, 'distilled.loss') }, ctx);
    await trainLm(scratch, { ...common, target: { kind: 'label' }, batch: () => src.trainRows(p.batch), report: reporter(ctx, PHASES.scratch, p.studentSteps, 'scratch.loss') }, ctx);
    const distilledScores = scoreModel(distilled, val), scratchScores = scoreModel(scratch, val);
    disposeDecoder(scratch);

    // Palettization: Fisher-weighted errors → plan; 4-bit everywhere; random placements.
    const phaseSteps = 3 + p.randomDraws;
    ctx.progress(PHASES.palettize, 0, phaseSteps);
    const calib = Array.from({ length: p.calibrationBatches }, () => src.trainRows(p.batch));
    const planInputs = planGroups(distilled, fisherDiagonal(distilled, calib));
    ctx.progress(PHASES.palettize, 1, phaseSteps);
    const plan4 = fourBitPlan(planInputs), planMixed = mixedPlan(planInputs, p.targetBpw);
    const v4 = palettizedVariant(distilled, planInputs, plan4);
    ctx.progress(PHASES.palettize, 2, phaseSteps);
    const vMixed = palettizedVariant(distilled, planInputs, planMixed);
    ctx.progress(PHASES.palettize, 3, phaseSteps);
    ctx.throwIfCancelled();
    const randomPlans = [] as { nll: number; bpw: number; kl: number }[];
    let firstRandomAllocation: number[][] = [];
    for (let i = 0; i < p.randomDraws; i++) {
      const plan = randomPlan(planInputs, p.targetBpw, rng.fork(`random-plan-${i}`));
      const v = palettizedVariant(distilled, planInputs, plan);
      randomPlans.push({ nll: scoreModel(v.model, val).nll, bpw: plan.bpw, kl: klFrom(distilled, v.model, val) });
      if (i === 0) firstRandomAllocation = allocation(distilled, plan);
      disposeDecoder(v.model);
      ctx.progress(PHASES.palettize, 4 + i, phaseSteps);
      ctx.throwIfCancelled();
      await new Promise((r) => setImmediate(r));
    }

    // Recovery LoRA on the frozen mixed model, distilled from the fp32 student, on ≤ 1 % of the teacher's tokens.
    const withLora = cloneDecoder(vMixed.model);
    addLora(withLora, PROJECTIONS, p.loraRank, 2 * p.loraRank, rng.fork('lora-init'));
    const loraTokens = Math.floor((src.teacherTokens * p.loraTokensPct) / 100);
    // Small batches (≤ 4 rows) give more steps from the same few tokens; never more tokens than the budget (one row at least).
    const loraBatch = Math.max(1, Math.min(p.batch, 4, Math.floor(loraTokens / (p.seqLen + 1))));
    const loraSteps = Math.max(1, Math.floor(loraTokens / (loraBatch * (p.seqLen + 1))));
    await trainLm(withLora, {
      steps: loraSteps, learningRate: p.loraLearningRate, warmup: Math.min(10, Math.ceil(loraSteps / 10)), variables: loraVariables(withLora),
      target: { kind: 'soft', teacher: distilled, labelWeight: 0 }, batch: () => src.trainRows(loraBatch), report: reporter(ctx, PHASES.lora, loraSteps, 'lora.loss'), reportEvery: 5,
    }, ctx);
    // The adapters ship at fp16: the model evaluated is the one exported.
    for (const a of Object.values(withLora.lora)) { setWeight(a.A, roundToFp16(a.A.dataSync())); setWeight(a.B, roundToFp16(a.B.dataSync())); }
    const loraParams = loraVariables(withLora).reduce((s, v) => s + v.size, 0);
    const projectionWeights = Object.values(planInputs.shapes).reduce((s, [r, c]) => s + r * c, 0);

    const variants: Record<AfmVariant, Decoder> = { fp32: distilled, '4bit': v4.model, mixed: vMixed.model, mixedLora: withLora };
    const palettes = { fp32: undefined, '4bit': v4.palettes, mixed: vMixed.palettes, mixedLora: vMixed.palettes };
    const nll: Record<AfmVariant, number> = { fp32: distilledScores.nll, '4bit': 0, mixed: 0, mixedLora: 0 };
    const top1: Record<AfmVariant, number> = { fp32: distilledScores.top1, '4bit': 0, mixed: 0, mixedLora: 0 };
    for (const v of ['4bit', 'mixed', 'mixedLora'] as const) { const s = scoreModel(variants[v], val); nll[v] = s.nll; top1[v] = s.top1; }
    // Damage as the variants' distance from the fp32 student: unlike NLL, it cannot improve by chance (a confident model's NLL can fall with noise).
    const kl = { '4bit': klFrom(distilled, v4.model, val), mixed: klFrom(distilled, vMixed.model, val), mixedLora: klFrom(distilled, withLora, val) };
    const bpw: Record<AfmVariant, number> = { fp32: 32, '4bit': plan4.bpw, mixed: planMixed.bpw, mixedLora: (planMixed.bpw * projectionWeights + 16 * loraParams) / projectionWeights };

    // Export every variant; compare logits; measure both engines.
    const folders = {} as Record<AfmVariant, string>;
    const onnxBytes = {} as Record<AfmVariant, number>;
    const sessions: LiveModel['sessions'] = {};
    const sessionMb = {} as Record<AfmVariant, number>;
    let onnxMaxAbsDiff = 0;
    const shape = onnxDecoderShape(studentConfig);
    const diffRows = val.rows.slice(0, 2);
    for (const [i, v] of AFM_VARIANTS.entries()) {
      folders[v] = join(ctx.runDir, 'models', v);
      onnxBytes[v] = writeVariantFolder(folders[v], variants[v], tok, palettes[v], v);
      // Resident memory grown by opening the session and running it once (its arenas): approximate, the process is shared.
      const before = process.memoryUsage().rss;
      const ort = await OnnxDecoder.open(join(folders[v], 'onnx', 'model.onnx'), shape, ctx.cores);
      sessions[v] = Promise.resolve(ort);
      onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, await maxLogitDiff(variants[v], ort, diffRows));
      sessionMb[v] = Math.max(0, process.memoryUsage().rss - before) / 2 ** 20;
      ctx.progress(PHASES.export, i + 1, AFM_VARIANTS.length);
      ctx.throwIfCancelled();
    }
    const prompt = val.rows[0].slice(0, Math.min(p.promptTokens, p.seqLen));
    const newTokens = Math.min(p.genTokens, studentConfig.maxLen - prompt.length);
    const speed = {} as Record<AfmVariant, { ort: Awaited<ReturnType<typeof ortSpeed>>; tfjs: Awaited<ReturnType<typeof tfjsSpeed>> }>;
    for (const [i, v] of AFM_VARIANTS.entries()) {
      speed[v] = { ort: await ortSpeed(await sessions[v]!, prompt, newTokens), tfjs: await tfjsSpeed(variants[v], prompt, newTokens) };
      ctx.progress(PHASES.speed, i + 1, AFM_VARIANTS.length);
      ctx.throwIfCancelled();
      await new Promise((r) => setImmediate(r));
    }

    const live: LiveModel = { params: p, tokenizer: tok, variants, folders, sessions, generations: new Map() };
    ctx.setLiveModel(live);

    const floor = src.floor;
    sample('variants', AFM_VARIANTS.map((v) => ({ variant: v, nll: nll[v], bpw: bpw[v], top1: top1[v], kl: v === 'fp32' ? 0 : kl[v], onnxBytes: onnxBytes[v], sessionMb: sessionMb[v], ort: speed[v].ort, tfjs: speed[v].tfjs })));
    sample('reference', { entropyFloor: floor, teacher: teacherScores, distilled: distilledScores, scratch: scratchScores, randomPlans });
    sample('allocation', { projections: [...PROJECTIONS], plan: allocation(distilled, planMixed), random: firstRandomAllocation });
    sample('groups', groupSamples(distilled, planMixed.bits, vMixed.palettes));
    const prompts = val.rows.slice(0, 3).map((r) => r.slice(0, 8));
    const generations = [];
    for (const pr of prompts) {
      const outputs: Record<string, string> = {};
      for (const v of AFM_VARIANTS) {
        const g = await (await sessions[v]!).generate(pr, { maxNewTokens: 40, temperature: 0, topK: 0, topP: 1, rng: new Rng(0), stopToken: tok.eos });
        outputs[v] = tok.decode(g.tokens);
      }
      generations.push({ prompt: tok.decode(pr), outputs });
    }
    sample('generations', generations);
    saveModels(ctx, p, variants, tok);

    const gap = nll.mixed - nll.fp32;
    const randomNll = randomPlans.reduce((s, r) => s + r.nll, 0) / randomPlans.length;
    const metrics: Record<string, number> = {
      nll_fp32: nll.fp32, nll_4bit: nll['4bit'], nll_mixed: nll.mixed, nll_mixedLora: nll.mixedLora, nll_randomPlan: randomNll, entropyFloor: floor ?? NaN,
      nll_teacher: teacherScores.nll, top1_teacher: teacherScores.top1,
      kl_4bit: kl['4bit'], kl_mixed: kl.mixed, kl_mixedLora: kl.mixedLora, kl_randomPlan: randomPlans.reduce((s, r) => s + r.kl, 0) / randomPlans.length,
      nll_randomPlanMin: Math.min(...randomPlans.map((r) => r.nll)), nll_randomPlanMax: Math.max(...randomPlans.map((r) => r.nll)),
      bpw_4bit: plan4.bpw, bpw_mixed: planMixed.bpw, bpw_mixedLora: bpw.mixedLora, bpw_randomPlan: randomPlans.reduce((s, r) => s + r.bpw, 0) / randomPlans.length,
      bpw_mixedAll: bitsPerWeightAll(vMixed.model, planInputs, planMixed), bpw_mixedLoraAll: bitsPerWeightAll(vMixed.model, planInputs, planMixed, loraParams),
      loraGapClosedPct: gap > 0 ? (100 * (nll.mixed - nll.mixedLora)) / gap : NaN, loraTokens: loraSteps * loraBatch * (p.seqLen + 1), loraTokensPctOfTeacher: (100 * loraSteps * loraBatch * (p.seqLen + 1)) / src.teacherTokens,
      loraParamsPct: (100 * loraParams) / projectionWeights, loraSteps,
      nll_distilled: distilledScores.nll, nll_scratch: scratchScores.nll, top1_distilled: distilledScores.top1, top1_scratch: scratchScores.top1,
      top1_4bit: top1['4bit'], top1_mixed: top1.mixed, top1_mixedLora: top1.mixedLora,
      onnxMaxAbsDiff, ttftMsPerPromptToken: speed.mixedLora.ort.ttftMsPerPromptToken, ttftMsPerPromptToken_tfjs: speed.mixedLora.tfjs.ttftMsPerPromptToken,
      tokensPerSec_ort: speed.mixedLora.ort.tokensPerSec, tokensPerSec_tfjs: speed.mixedLora.tfjs.tokensPerSec,
      bytes_fp32: onnxBytes.fp32, bytes_4bit: onnxBytes['4bit'], bytes_mixed: onnxBytes.mixed, bytes_mixedLora: onnxBytes.mixedLora,
      ffnHidden_student: width, teacherTokens: src.teacherTokens,
    };
    disposeDecoder(teacher);
    return {
      metrics,
      checks: {
        bpwInRange: planMixed.bpw >= 3.5 && planMixed.bpw <= 3.7,
        planBeatsRandom: nll.mixed < randomNll,
        loraClosesHalf: gap > 0 && nll.mixed - nll.mixedLora >= 0.5 * gap,
        onnxMatches: onnxMaxAbsDiff <= 1e-3,
        distilledBeatsScratch: distilledScores.top1 > scratchScores.top1,
      },
    };
  },

  async loadModel(runDir) {
    const ckpt = readCheckpoint(join(runDir, 'checkpoints', 'afm-ondevice.ckpt'));
    const p = ckpt.meta.params as AfmOndeviceParams;
    const config = ckpt.meta.config as DecoderConfig;
    const tokenizer = fromHuggingFaceJson(ckpt.meta.tokenizer);
    const variants = Object.fromEntries(AFM_VARIANTS.map((v) => [v, createDecoder(config, new Rng(0))])) as Record<AfmVariant, Decoder>;
    const rank = Number(ckpt.meta.loraRank), scale = Number(ckpt.meta.loraScale);
    addLora(variants.mixedLora, PROJECTIONS, rank, scale * rank, new Rng(0));
    const named: Record<string, tf.Variable> = {};
    for (const v of AFM_VARIANTS) for (const [k, w] of Object.entries(variants[v].weights)) named[`${v}.${k}`] = w;
    for (const [k, w] of Object.entries(loraTensors(variants.mixedLora))) named[`mixedLora.lora.${k}`] = w;
    assignCheckpoint(ckpt, named);
    const folders = Object.fromEntries(AFM_VARIANTS.map((v) => [v, join(runDir, 'models', v)])) as Record<AfmVariant, string>;
    return { params: p, tokenizer, variants, folders, sessions: {}, generations: new Map() } satisfies LiveModel;
  },

  queries: queryHandlers(afmOndeviceQueries, {
    generate: (args, model) => startGeneration(model as LiveModel, args),
    generated: (args, model) => {
      const g = (model as LiveModel).generations.get(args.id);
      if (!g) throw new RangeError(`no generation ${args.id} (the model was reloaded, or it never started)`);
      return { text: g.text, promptTokens: g.promptTokens, tokens: g.tokens.length, done: g.done, ttftMs: g.ttftMs, tokensPerSec: g.tokensPerSec, error: g.error };
    },
    exportVariant: (args, model) => exportVariant(model as LiveModel, args.variant, args.folder),
  }),
};

function groupSamples(d: Decoder, bits: Record<string, Uint8Array>, palettes: Record<string, { tables: Float32Array[] }>) {
  const out = [];
  for (const want of [4, 2]) {
    const name = Object.keys(bits).find((n) => bits[n].includes(want));
    if (!name) continue;
    const g = bits[name].indexOf(want);
    const [rows, cols] = d.weights[name].shape as [number, number];
    const w = d.weights[name].dataSync();
    const values: number[] = [];
    for (let r = 0; r < rows; r++) for (let j = 0; j < GROUP_COLUMNS; j++) values.push(w[r * cols + g * GROUP_COLUMNS + j]);
    out.push({ matrix: name, group: g, bits: want, values, table: Array.from(palettes[name].tables[g]) });
  }
  return out;
}

const sessionOf = (m: LiveModel, v: AfmVariant) => {
  const c = m.variants[v].config;
  m.sessions[v] ??= OnnxDecoder.open(join(m.folders[v], 'onnx', 'model.onnx'), onnxDecoderShape(c));
  return m.sessions[v]!;
};

let nextGeneration = 0;
function startGeneration(m: LiveModel, a: { variant: AfmVariant; engine: 'ort' | 'tfjs'; prompt: string; maxNewTokens: number; temperature: number; topK: number; topP: number }) {
  const d = m.variants[a.variant];
  let ids = m.tokenizer.encode(a.prompt);
  // Keep the prompt's end when it would not leave room for one new token.
  if (ids.length > d.config.maxLen - 1) ids = ids.slice(ids.length - (d.config.maxLen - 1));
  const maxNewTokens = Math.min(a.maxNewTokens, d.config.maxLen - ids.length);
  const id = nextGeneration++;
  const g: Generation = { text: '', tokens: [], promptTokens: ids.length, done: false, ttftMs: null, tokensPerSec: null, error: null };
  m.generations.set(id, g);
  if (m.generations.size > 50) m.generations.delete(m.generations.keys().next().value!);
  const o = { maxNewTokens, temperature: a.temperature, topK: a.topK, topP: a.topP, rng: new Rng(id + 1), stopToken: m.tokenizer.eos };
  const onToken = async (t: number) => { g.tokens.push(t); g.text = m.tokenizer.decode(g.tokens); await new Promise((r) => setImmediate(r)); };
  const work = a.engine === 'ort'
    ? sessionOf(m, a.variant).then((s) => s.generate(ids, o, onToken))
    : generateStream(d, ids, o, onToken);
  work.then((r) => { g.ttftMs = r.ttftMs; g.tokensPerSec = r.tokensPerSec; }, (e: Error) => { g.error = e.message; }).finally(() => { g.done = true; });
  return { id };
}

/** Copies a variant's folder into an empty (or new) folder the user chose; nothing there is overwritten. */
function exportVariant(m: LiveModel, variant: AfmVariant, folder: string) {
  if (!isAbsolute(folder)) throw new RangeError(`"${folder}" is not an absolute path: choose a folder such as /home/you/models/${variant}`);
  const target = resolve(folder);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new RangeError(`${target} is a file, not a folder`);
    if (readdirSync(target).length) throw new RangeError(`${target} is not empty: choose an empty or new folder (nothing is overwritten)`);
  }
  const src = m.folders[variant];
  if (!existsSync(join(src, 'onnx', 'model.onnx'))) throw new Error(`the ${variant} export is missing from the run folder (${src})`);
  const files: string[] = [];
  let bytes = 0;
  const walk = (rel: string) => {
    for (const e of readdirSync(join(src, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) { walk(r); continue; }
      mkdirSync(join(target, rel), { recursive: true });
      copyFileSync(join(src, r), join(target, r));
      files.push(r); bytes += statSync(join(src, r)).size;
    }
  };
  walk('');
  return { path: target, files: files.sort(), bytes };
}
