import { z } from 'zod';
import type { LabSpec } from '../lab';

export const DIT_MODELS = ['ec', 'dense', 'tc'] as const;
export type DitModelName = (typeof DIT_MODELS)[number];

export const ecDitParams = z.object({
  dataset: z.enum(['mnist', 'fashion-mnist']).default('mnist').describe('Image set (canonical train/test split)'),
  judge: z.enum(['full', 'tiny']).default('full').describe('Reference classifier scoring the samples: full (≈0.98) or tiny (smoke runs)'),
  models: z.array(z.enum(DIT_MODELS)).min(1).default(['ec', 'dense', 'tc']).describe('Which DiTs to train: expert choice, dense, token-choice top-2'),
  dModel: z.number().int().min(16).max(256).default(64).describe('Width d'),
  layers: z.number().int().min(2).max(12).default(4).describe('DiT blocks (every other FFN is a MoE: blocks 2, 4, …)'),
  heads: z.number().int().min(1).max(16).default(4).describe('Attention heads'),
  experts: z.number().int().min(2).max(32).default(8).describe('E: experts per MoE block'),
  capacityFactor: z.number().min(0.25).max(8).default(2).describe('f_c of expert choice: each expert takes S·f_c/E tokens of its routing group'),
  expertHidden: z.number().int().min(8).max(1024).default(128).describe('Hidden width of one expert (the dense baseline\'s MoE-position FFN is f_c experts wide plus the router\'s compute)'),
  tcCapacityFactor: z.number().min(0.5).max(4).default(1.25).describe('Capacity factor of token-choice top-2'),
  tcAuxWeight: z.number().min(0).max(1).default(0.01).describe('Weight of token choice\'s balancing loss'),
  trainSteps: z.number().int().min(1).max(100000).default(1500).describe('Training steps per model (equal for all)'),
  batchSize: z.number().int().min(2).max(256).default(32).describe('Images per training step; its B·49 tokens are one routing group'),
  learningRate: z.number().min(1e-5).max(0.02).default(3e-3).describe('Adam step size (warm-up 50 steps, cosine decay)'),
  emaDecay: z.number().min(0).max(0.9999).default(0).describe('Decay of the weights\' exponential moving average used for validation and sampling (warmed up as min(decay, (1+step)/(10+step))); 0 = the raw weights (default: 0.999 gave no gain at 1,500 steps)'),
  labelDropout: z.number().min(0).max(0.5).default(0.1).describe('Share of training images given the null label (for classifier-free guidance)'),
  sampleSteps: z.number().int().min(1).max(200).default(20).describe('Euler steps from t = 0 (noise) to 1 (data)'),
  cfgScale: z.number().min(0).max(10).default(4).describe('Classifier-free guidance scale s: v = v_null + s·(v_label − v_null)'),
  samplesPerClass: z.number().int().min(1).max(500).default(100).describe('Generated images per class for accuracy and Fréchet distance'),
  sampleBatch: z.number().int().min(2).max(64).default(16).describe('Images generated together: one routing group per branch (conditional, null) at every step'),
  fdReference: z.number().int().min(100).max(10000).default(1000).describe('Test images the Fréchet distance compares against'),
  valImages: z.number().int().min(16).max(10000).default(1000).describe('Test images of the validation flow loss (fixed noise and t)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for init, batches, noise and sampling'),
}).superRefine((p, ctx) => {
  if (p.dModel % p.heads !== 0 || p.dModel % 4 !== 0) ctx.addIssue({ code: 'custom', path: ['heads'], message: `dModel ${p.dModel} must be a multiple of 4 and split into ${p.heads} heads` });
  if (Math.floor((p.sampleBatch * 49 * p.capacityFactor) / p.experts) < 1) ctx.addIssue({ code: 'custom', path: ['capacityFactor'], message: `capacity floor(${p.sampleBatch}·49·${p.capacityFactor}/${p.experts}) is 0: raise f_c or the batch` });
  if (new Set(p.models).size !== p.models.length) ctx.addIssue({ code: 'custom', path: ['models'], message: `models repeat: ${p.models.join(', ')}` });
});
export type EcDitParams = z.infer<typeof ecDitParams>;

export const ecDitSpec: LabSpec<typeof ecDitParams> = {
  id: 'ec-dit',
  title: 'Expert-choice diffusion transformer',
  paper: { title: 'EC-DiT: Scaling Diffusion Transformers with Adaptive Expert-Choice Routing (Sun et al., ICLR 2025)', arxiv: '2410.02098' },
  summary: 'A rectified-flow DiT on digits whose FFNs are expert-choice MoEs, against dense and token-choice top-2 at equal activated compute; heatmaps of how many experts pick each patch.',
  params: ecDitParams,
  presets: {
    smoke: { judge: 'tiny', dModel: 32, layers: 2, heads: 2, experts: 4, expertHidden: 32, trainSteps: 12, batchSize: 8, sampleSteps: 3, samplesPerClass: 2, sampleBatch: 8, fdReference: 100, valImages: 32 },
    default: {},
    paper: {},
  },
  metrics: ['valLoss_ec', 'valLoss_dense', 'valLoss_tc', 'classAcc_ec', 'classAcc_dense', 'classAcc_tc', 'fd_ec', 'fd_dense', 'fd_tc', 'tcDroppedTokenPct', 'inkExpertSpearman_lastLayer', 'stepsPerSec'],
  checks: ['expertCapacityExact', 'classAccEcAbove0p8'],
  defaultTime: '≈ 45 min (it uses one core): 1,500 training steps each for EC (≈ 13 min), dense (≈ 8 min) and token choice (≈ 11 min), then 1,000 samples each (20 steps with guidance, ≈ 3 min per model)',
  resultsNotes: [
    'Our DiT is 4 blocks of d = 64 (4 heads) on 4 × 4 patches of 28 × 28 digits (49 tokens), the label as cross-attention to two tokens ([kind, class name]; [null, null] for guidance); blocks 2 and 4 hold the FFN under test: expert choice (E = 8 experts of hidden 128, f_c = 2, no balancing loss), token-choice top-2 (capacity 1.25, balancing loss 0.01) or a dense FFN of hidden 260 (2 experts plus the router\'s d·E multiply-adds), so all three activate the same compute; blocks 1 and 3 are dense (hidden 256) in all three. Rectified flow, logit-normal t, Adam 3e-3 (50 warm-up steps, cosine), batch 32 (one routing group of 1,568 tokens), 1,500 steps, label dropout 0.1; sampling: 20 Euler steps, guidance scale 4, batches of 16 images routed as one group per branch.',
    'How the defaults were chosen (dev runs, dense model, seed 1, 200 samples): lr 1e-3 vs 3e-3 at 400 steps: validation loss 0.355 vs 0.313, judge accuracy 13.5 vs 21 %; at 1,500 steps (3e-3) the judge accuracy by guidance scale s = 1, 2, 3, 4, 6: 40, 70, 85, 86, 89 % (160 samples), so s = 4. An EMA of the weights (0.999) gave no gain at 1,500 steps (69.5 vs 72 % at s = 2) and is off by default (`emaDecay`); adding the pooled label embedding to the timestep conditioning (as SD3) changed nothing (73 vs 72 %) and was dropped.',
    'Results (the paper preset, which is also the default: `npm run reproduce -- --lab ec-dit --jobs 2`, seeds 1–3, 2026-11-27; the table above gives mean ± std). A run is deterministic for its seed: seeds 1 and 2 repeated the earlier CLI runs to the last digit. Validation flow loss EC / dense / token choice: seed 1 0.2423 / 0.2479 / 0.2414, seed 2 0.2418 / 0.2452 / 0.2401, seed 3 0.2393 / 0.2495 / 0.2398; judge accuracy 91.0 / 85.0 / 94.2 %, 94.8 / 93.2 / 92.5 %, 96.1 / 88.3 / 93.5 % (±0.7–1.1 points standard error each); Fréchet distance 61.1 / 68.7 / 58.1, 56.8 / 58.7 / 61.0, 49.9 / 64.6 / 53.8. Expert choice beats the dense FFN of equal activated compute on all three measures on all three seeds (mean over seeds: flow loss 0.2411 vs 0.2475, accuracy 94.0 vs 88.8 %, Fréchet distance 55.9 vs 64.0). Against token choice EC is ahead on seed 3 on all three measures, behind on seed 1 on all three, and split on seed 2 (token choice the lower flow loss by 0.0017, EC the higher accuracy and lower Fréchet distance). The paper finds EC best; here EC leads token choice on sample quality in 2 of 3 seeds and the two are within seed noise on flow loss: not a clear win.',
    'Why EC is not clearly ahead of token choice, investigated on seed 1 (where token choice led on all three measures; one run per setting, ≈ 20–40 min each): (1) Routing group (seed 1\'s trained models, 1,000 samples re-drawn): EC sampled in groups of 32 images, the size it was trained with, reaches 93.1 % and Fréchet distance 57.4 (groups of 16, the default: 91.0 %, 61.1; of 64: 91.2 %, 60.1), so a sampling group smaller than the training group costs EC about 2 points; token choice in groups of 32: 93.6 %, 55.7 — level, not behind, but not ahead. (2) Capacity (EC only, `--set capacityFactor=…`): f_c = 1, half the activated compute of token choice and dense: 0.2462, 88.1 %, Fréchet 69.2 — still ahead of the dense model of twice its compute on loss and accuracy; f_c = 4, twice their compute: 0.2418, 92.7 %, 67.9; so more capacity lowers the loss a little and raises accuracy, but even at twice the compute EC does not reach token choice on this seed (0.2414, 94.2 %, 58.1). (3) Learning rate 1e-3 instead of 3e-3 (EC and token choice): both are undertrained at 1,500 steps (EC 0.2725, 61.7 %, 98.2; token choice 0.2718, 70.5 %, 96.9) and token choice stays ahead. None of the three turns seed 1 round: at 49 tokens per image, 1,568 per routing group and 1,500 steps, the freedom expert choice has (more experts for some tokens) buys about what token choice\'s balancing loss and top-2 buy, and which one wins depends on the seed. The paper\'s gains come from models of billions of parameters trained far longer on 256² images with many more tokens per image; we do not reproduce a robust EC advantage over token choice at this scale, only over dense.',
    'Adaptive compute: the Spearman ρ between a sample\'s patch ink and the number of experts choosing the patch, last MoE block at the last step, is +0.55 on seed 1, −0.41 on seed 2 and +0.37 on seed 3 (token choice: +0.37 on seeds 2 and 3); in block 2 it falls from +0.10 / +0.33 at the first step to −0.24 / −0.38 at the last on both seeds. With no balancing loss, whether strokes or background draw more experts is a choice the router makes differently per seed (on seed 1 it also flips with the setting: +0.55 at f_c = 2, +0.54 at f_c = 1, −0.37 at f_c = 4, −0.51 at lr 1e-3), so the paper\'s concentration of experts on detailed regions late in sampling is not a robust effect at our scale (the panel\'s heatmaps show both). Token choice dropped 1.85, 1.87 and 2.74 % of its (token, expert) assignments in training (seeds 1–3). At inference EC costs 32 % more time than dense and token choice 29 % (bench; the paper reports 20–28 %).',
  ],
  reproduce: [
    { metric: 'valLoss_ec', paper: 'EC lowest training loss (Fig. 4)', note: 'Validation flow loss on test images, fixed noise and t.' },
    { metric: 'valLoss_dense', paper: '—', note: 'Dense FFN as wide as f_c experts (+ router compute).' },
    { metric: 'valLoss_tc', paper: '—', note: 'Token-choice top-2, capacity 1.25, balancing loss.' },
    { metric: 'classAcc_ec', paper: 'GenEval 71.68 % (EC-DiT-M, 256²)', note: 'Judge accuracy against the requested class on 100 samples per class (our GenEval stand-in).' },
    { metric: 'classAcc_dense', paper: 'dense baseline below EC', note: '' },
    { metric: 'classAcc_tc', paper: 'token choice below EC', note: '' },
    { metric: 'fd_ec', paper: '—', note: 'Fréchet distance of judge features, 1,000 samples vs 1,000 test images (our FID stand-in).' },
    { metric: 'fd_dense', paper: '—', note: '' },
    { metric: 'fd_tc', paper: '—', note: '' },
    { metric: 'tcDroppedTokenPct', paper: '—', note: 'Share of token-choice (token, expert) assignments over capacity, during training.' },
    { metric: 'inkExpertSpearman_lastLayer', paper: 'experts concentrate on detailed regions late (up to 44 % of experts on one patch)', note: 'Spearman ρ per sample between patch ink and experts per patch, last MoE block, last step.' },
  ],
};
