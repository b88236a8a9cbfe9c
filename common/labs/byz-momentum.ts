import { z } from 'zod';
import type { LabSpec } from '../lab';
import { anyNumber } from '../lab-contract';

export const BYZ_METHODS = ['ef21sgdm', 'ef21', 'brcsgd', 'sgdm'] as const;
export const BYZ_ATTACKS = ['none', 'signflip', 'labelflip', 'ipm', 'alie'] as const;
export const BYZ_AGGREGATORS = ['mean', 'cm', 'cwtm', 'rfa', 'krum', 'cc'] as const;
export const BYZ_MODELS = ['logistic', 'softmax', 'mlp'] as const;
export const METHOD_LABEL: Record<(typeof BYZ_METHODS)[number], string> = { ef21sgdm: 'Byz-EF21-SGDM', ef21: 'Byz-EF21', brcsgd: 'BR-CSGD', sgdm: 'SGDM (uncompressed)' };

/** The limits an aggregator states; mirrored by the server loop, which refuses the same way. */
export function aggregatorLimit(aggregator: string, n: number, f: number): string | undefined {
  if (aggregator === 'krum' && !(n >= 2 * f + 3)) return `Krum tolerates f only when n ≥ 2f + 3: n = ${n}, f = ${f} needs n ≥ ${2 * f + 3}`;
  if (aggregator === 'cwtm' && !(n > 2 * f)) return `the trimmed mean trims f at each end and needs n > 2f: n = ${n}, f = ${f}`;
  return undefined;
}

/** Validation accuracy that picks γ (the run and the panel's live view): the final evaluation's, or the mean over the last quarter of evaluations. */
export function selectionScore(p: { gammaSelection?: 'final' | 'lastQuarter' }, r: { curve: readonly { valAcc: number }[]; finalValAcc: number }): number {
  if (p.gammaSelection === 'final' || !r.curve.length) return r.finalValAcc;
  const tail = r.curve.slice(-Math.ceil(r.curve.length / 4));
  return tail.reduce((a, x) => a + x.valAcc, 0) / tail.length;
}

export const byzMomentumParams = z.object({
  experiment: z.enum(['headline', 'single', 'grid']).default('headline').describe('headline: the configurations the metrics name; single: the one configuration below, live; grid: attack × aggregator × method (plus the headline)'),
  model: z.enum(BYZ_MODELS).default('logistic').describe('logistic: digits 0–4 vs 5–9 (the paper\'s a9a setting, d = 785); softmax: 10 classes (d = 7,850); mlp: one hidden ReLU layer'),
  hidden: z.number().int().min(4).max(256).default(32).describe('Hidden units of the mlp model'),
  partition: z.enum(['iid', 'dirichlet']).default('iid').describe('How training rows are dealt to workers: IID, or Dirichlet(α) label skew'),
  alpha: z.number().min(0.01).max(100).default(0.5).describe('α of the Dirichlet label skew (smaller = more skewed)'),
  n: z.number().int().min(3).max(64).default(20).describe('Workers'),
  f: z.number().int().min(0).max(63).default(9).describe('Byzantine workers (the first f); the aggregator and NNM are told this f'),
  method: z.enum(BYZ_METHODS).default('ef21sgdm').describe('Method of a single run'),
  attack: z.enum(BYZ_ATTACKS).default('alie').describe('Attack of a single run'),
  aggregator: z.enum(BYZ_AGGREGATORS).default('cwtm').describe('Aggregator of single and headline runs: mean, coordinate median, trimmed mean, geometric median (RFA), Krum, centered clipping'),
  nnm: z.boolean().default(true).describe('Nearest-neighbour mixing before the aggregator'),
  gridMethods: z.array(z.enum(BYZ_METHODS)).min(1).default(['ef21sgdm', 'ef21', 'brcsgd']).describe('Methods of the grid'),
  gridAttacks: z.array(z.enum(BYZ_ATTACKS)).min(1).default(['signflip', 'labelflip', 'ipm', 'alie']).describe('Attacks of the grid'),
  gridAggregators: z.array(z.enum(BYZ_AGGREGATORS)).min(1).default(['cm', 'cwtm', 'rfa']).describe('Aggregators of the grid (each after NNM when nnm is on)'),
  attackMode: z.enum(['increment', 'state']).default('increment').describe('increment: the attack is computed on the honest increments c_i (the paper\'s code); state: the Byzantine server-side g_i is set to the attack on the honest g_i'),
  stateModeToo: z.boolean().default(false).describe('Headline: also run the attacked configurations in state mode (metrics …_state)'),
  compressor: z.enum(['topk', 'randk']).default('topk').describe('Compressor of the EF21 methods (BR-CSGD always uses unbiased rand-k)'),
  kFraction: z.number().min(0.0001).max(1).default(0.01).describe('k as a fraction of d (at least one coordinate)'),
  eta: z.number().min(0.001).max(1).default(0.1).describe('η: momentum weight of the new gradient (Byz-EF21 uses 1)'),
  gammas: z.array(z.number().min(1e-5).max(10)).min(1).max(6).default([0.5, 0.05, 0.005]).describe('Step sizes γ tried per configuration; the one with the best validation accuracy (see gammaSelection) is reported'),
  gammaSelection: z.enum(['final', 'lastQuarter']).default('lastQuarter').describe('How γ is chosen on validation: the mean of the last quarter of evaluations (default: a constant-step batch-1 iterate '
    + 'is noisy, and one evaluation can favour a γ that oscillates), or the final evaluation alone'),
  batch: z.number().int().min(1).max(256).default(1).describe('Samples per worker per round'),
  rounds: z.number().int().min(1).max(200000).default(14000).describe('Server rounds per run (14,000 = 40 epochs of the 7,000 training rows at n = 20, batch 1: the official a9a runs\' 40 epochs)'),
  evalEvery: z.number().int().min(1).max(100000).default(350).describe('Rounds between evaluations (accuracy, loss, distances); 350 = one epoch at the defaults'),
  valRows: z.number().int().min(50).max(4000).default(1000).describe('Training-split rows held out to choose γ'),
  testRows: z.number().int().min(50).max(10000).default(2000).describe('Test rows of the reported accuracy'),
  ipmEpsilon: z.number().min(0).max(100).default(0.1).describe('ε of IPM: Byzantine workers send −ε × the honest mean'),
  krumPower: z.number().int().min(2).max(4).refine((v) => v === 2 || v === 4, 'Krum\'s power is 2 or 4').default(2).describe('Krum scores with squared distances (2) or fourth powers (4, the official code)'),
  rfa: z.enum(['tolerance', 'official']).default('tolerance').describe('Geometric median: smoothed Weiszfeld to tolerance 1e-7 from the mean, or the official 8 iterations from zero with smoothing 0.1'),
  ccTau: z.number().min(1e-4).max(1000).default(1).describe('τ of centered clipping (it starts from the previous aggregate)'),
  ccIterations: z.number().int().min(1).max(50).default(1).describe('Iterations of centered clipping'),
  threads: z.number().int().min(0).max(16).default(0).describe('Worker threads hosting the workers (0 = the cores the app grants the run; 1 = in the run\'s own thread)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for the split, shards, sampling and rand-k'),
}).superRefine((p, ctx) => {
  if (p.f >= p.n) ctx.addIssue({ code: 'custom', path: ['f'], message: `f = ${p.f} Byzantine workers need n > f (n = ${p.n})` });
  const limit = aggregatorLimit(p.aggregator, p.n, p.f); // the grid shows its refused cells instead
  if (limit) ctx.addIssue({ code: 'custom', path: ['aggregator'], message: limit });
  if (new Set(p.gammas).size !== p.gammas.length) ctx.addIssue({ code: 'custom', path: ['gammas'], message: `step sizes repeat: ${p.gammas.join(', ')}` });
});
export type ByzMomentumParams = z.infer<typeof byzMomentumParams>;

const accuracy = z.number().min(0).max(1);
const config = { key: z.string(), method: z.enum(BYZ_METHODS), attack: z.enum(BYZ_ATTACKS), aggregator: z.enum(BYZ_AGGREGATORS) };

export const byzMomentumSamples = {
  /** One configuration at one γ: its evaluations (test and validation accuracy, loss, uplink bytes) and each worker's distance to the aggregate; `partial` while it streams. */
  curve: z.object({
    ...config, attackMode: z.enum(['increment', 'state']), f: z.number().int().min(0), n: z.number().int().positive(), gamma: z.number().positive(),
    byzantine: z.number().int().min(0), rounds: z.number().int().min(0), bytesPerRound: z.number().nonnegative(), finalAcc: accuracy, finalValAcc: accuracy,
    points: z.array(z.object({ round: z.number().int().min(0), epoch: z.number().nonnegative(), bytes: z.number().nonnegative(), testAcc: accuracy, valAcc: accuracy, loss: anyNumber })),
    distances: z.array(z.array(anyNumber)),
    partial: z.literal(true).optional(),
  }),
  /** A grid cell: the chosen γ's test accuracy, or why the aggregator refused the configuration. */
  'grid-cell': z.object({
    ...config, refused: z.string().optional(),
    attackMode: z.enum(['increment', 'state']).optional(), acc: accuracy.optional(), gamma: z.number().positive().optional(), headline: z.boolean().optional(),
  }).refine((c) => c.refused !== undefined || (c.acc !== undefined && c.gamma !== undefined), { error: 'a cell has either refused or acc and gamma' }),
};

export const byzMomentumSpec: LabSpec<typeof byzMomentumParams> = {
  id: 'byz-momentum',
  title: 'Byzantine-robust compressed SGD with momentum',
  paper: { title: 'Byzantine-robust and communication-efficient distributed learning via compressed momentum filtering (Liu et al., 2024)', arxiv: '2409.08640' },
  summary: 'n workers in threads send top-k compressed momentum increments as real bytes; f of them attack (ALIE, IPM, flips); the server filters with NNM + a robust aggregator. Byz-EF21-SGDM vs Byz-EF21, BR-CSGD and uncompressed SGDM.',
  params: byzMomentumParams,
  samples: byzMomentumSamples,
  cores: 2,
  presets: {
    smoke: { n: 10, f: 3, rounds: 300, evalEvery: 100, gammas: [0.05], valRows: 200, testRows: 400, threads: 2 },
    default: {},
    // The grid's geometric median as the paper's code runs it (8 Weiszfeld steps from zero): to
    // tolerance it costs ~10× more per round over 36 cells × 3 step sizes × 3 seeds.
    paper: { experiment: 'grid', stateModeToo: true, rfa: 'official' },
  },
  metrics: ['acc_ef21sgdm_alie_cwtm', 'acc_ef21_alie_cwtm', 'acc_ef21sgdm_ipm_cwtm', 'acc_ef21_ipm_cwtm', 'acc_ef21sgdm_clean', 'acc_sgdm_clean', 'bytesPerRound_topk', 'bytesPerRound_dense', 'roundsPerSec'],
  checks: ['momentumBeatsEf21UnderAlie', 'momentumBeatsEf21UnderIpm', 'cleanWithin1pt'],
  keyMetrics: ['acc_ef21sgdm_alie_cwtm', 'acc_ef21_alie_cwtm', 'acc_ef21sgdm_ipm_cwtm', 'acc_ef21_ipm_cwtm'],
  metricInfo: {
    bytesPerRound_topk: { label: 'uplink bytes per round · top-k', unit: 'bytes' },
    bytesPerRound_randk: { label: 'uplink bytes per round · rand-k', unit: 'bytes' },
    bytesPerRound_dense: { label: 'uplink bytes per round · dense', unit: 'bytes' },
  },
  checkPresets: { momentumBeatsEf21UnderAlie: ['default', 'paper'], momentumBeatsEf21UnderIpm: ['default', 'paper'], cleanWithin1pt: ['default', 'paper'] },
  codeVersion: 1,
  defaultTime: '≈ 5 min: six configurations × three step sizes γ, 14,000 rounds of 20 workers each (≈ 16 s a run at ~870 rounds/s)',
  reproduce: [
    { metric: 'acc_ef21sgdm_alie_cwtm', paper: 'Byz-EF21-SGDM above Byz-EF21 under ALIE, CWTM + NNM, a9a (plots; numbers unverified)', note: 'n = 20, f = 9, top-1 % of d = 785, batch 1, increment attacks.' },
    { metric: 'acc_ef21_alie_cwtm', paper: 'below Byz-EF21-SGDM', note: '' },
    { metric: 'acc_ef21sgdm_ipm_cwtm', paper: 'Byz-EF21-SGDM above Byz-EF21 under IPM', note: 'ε = 0.1.' },
    { metric: 'acc_ef21_ipm_cwtm', paper: 'below Byz-EF21-SGDM', note: '' },
    { metric: 'acc_ef21sgdm_clean', paper: 'within about a point of SGDM with f = 0', note: 'f = 0 declared 0: no trimming, no NNM.' },
    { metric: 'acc_sgdm_clean', paper: '—', note: 'Uncompressed momentum SGD, mean.' },
    { metric: 'acc_ef21sgdm_alie_cwtm_state', paper: '— (the paper\'s code attacks increments)', note: 'State mode: the Byzantine server-side g_i is the attack on the honest g_i.' },
    { metric: 'acc_ef21_alie_cwtm_state', paper: '—', note: '' },
    { metric: 'acc_ef21sgdm_ipm_cwtm_state', paper: '—', note: '' },
    { metric: 'acc_ef21_ipm_cwtm_state', paper: '—', note: '' },
    { metric: 'bytesPerRound_topk', paper: '—', note: 'Uplink bytes per worker per round, top-8 of 785 (gaps as varints + float32).' },
    { metric: 'bytesPerRound_dense', paper: '—', note: 'SGDM\'s float32 vector.' },
    // The paper preset's grid (increment attacks, each aggregator after NNM), cells the headline does not already hold.
    ...(['ef21sgdm', 'ef21', 'brcsgd'] as const).flatMap((m) => (['signflip', 'labelflip', 'ipm', 'alie'] as const).flatMap((a) => (['cm', 'cwtm', 'rfa'] as const)
      .filter((g) => !(g === 'cwtm' && (a === 'ipm' || a === 'alie') && m !== 'brcsgd'))
      .map((g) => ({ metric: `acc_${m}_${a}_${g}`, paper: m === 'ef21sgdm' ? 'Byz-EF21-SGDM best in most cells (plots)' : '—', note: `grid: ${METHOD_LABEL[m]}, ${a}, ${g} + NNM` })))),
  ],
  sweeps: [
    {
      title: 'Further setting: 10-class softmax regression with Dirichlet(0.5) label skew', param: 'partition', values: ['dirichlet'], preset: 'default', seed: 1,
      overrides: { model: 'softmax', rounds: 3500, evalEvery: 350 },
      metrics: ['acc_ef21sgdm_alie_cwtm', 'acc_ef21_alie_cwtm', 'acc_ef21sgdm_ipm_cwtm', 'acc_ef21_ipm_cwtm', 'acc_ef21sgdm_clean', 'acc_sgdm_clean'],
      note: 'The analogue of papers.md §6(d): mnist softmax regression (d = 7,850), n = 20, f = 9, top-1 %, batch 1, 3,500 rounds (10 epochs; a softmax round costs ~8× a logistic one), γ chosen on validation as in the headline.',
    },
  ],
};
