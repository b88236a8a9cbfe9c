// mm15-mixture: SFT arms that differ only in their data mixture or their base. The bases are
// cached shared parts (workers/shared-parts/mm15-base.ts): pre-trained on the caption :
// interleaved : text mix, and continually pre-trained on digit strips at high or low
// resolution. Every arm (./sft-arm.ts) fine-tunes its base's projection and decoder with the
// encoder frozen, on high-resolution inputs, for the same number of steps, from the same
// question pools and the same format examples; the arms differ in how many questions of each
// category their mixture draws. They train side by side in task threads when the job has the
// cores. `arms: mixture` trains the base arm alone: one point of a sweep along a weight.
import { MM15_ARMS, MM15_ARM_SETUP, MM15_CATEGORY_IDS, mm15MixtureSamples, mm15MixtureSpec, type Mm15Arm, type Mm15MixtureParams } from '../../../common/labs/mm15-mixture';
import { sampleEmitter } from '../../../common/lab-contract';
import type { RunSummary } from '../../../common/lab';
import type { LabDefinition, RunContext } from '../../runtime/context';
import { runTasks, taskThreadCount, type TaskIo } from '../../runtime/task-threads';
import { armUnits, baseKey, sftArmTask, type ArmResult, type ArmTaskInput, type Cpt } from './sft-arm';

export { mixOf, sftCounts } from './sft-arm';

const CPT_ORDER: Cpt[] = ['high', 'low', 'none'];
const armsOf = (p: Mm15MixtureParams): readonly Mm15Arm[] => (p.arms === 'mixture' ? ['base'] : MM15_ARMS);
const armsPhase = (p: Mm15MixtureParams, cores: number) => {
  const threads = taskThreadCount(cores, armsOf(p).length);
  return `SFT ${p.arms === 'mixture' ? 'the mixture' : 'arms'} (encode, train, score${threads > 1 ? `; ${threads} threads` : ''})`;
};

/** Each arm's results in the order given; progress summed over the arms' units under one phase. */
async function trainArms(p: Mm15MixtureParams, ctx: RunContext, arms: readonly Mm15Arm[]): Promise<ArmResult[]> {
  const phase = armsPhase(p, ctx.cores);
  const units = arms.reduce((a, arm) => a + armUnits(p, arm), 0);
  const tasks = arms.map((arm) => ({ kind: 'mm15:sft-arm', input: { params: p, arm, home: ctx.partsHome } satisfies ArmTaskInput }));
  if (taskThreadCount(ctx.cores, arms.length) > 1) return runTasks<ArmResult>(ctx, tasks, sftArmTask as never, { phase, units });
  const out: ArmResult[] = [];
  let before = 0;
  for (const arm of arms) {
    const io: TaskIo = {
      throwIfCancelled: () => ctx.throwIfCancelled(), metric: (s, k, v) => ctx.metric(s, k, v), log: (m, l) => ctx.log(m, l),
      progress: (_phase, done) => ctx.progress(phase, before + done, units),
    };
    out.push(await sftArmTask({ params: p, arm, home: ctx.partsHome }, io));
    before += armUnits(p, arm);
  }
  return out;
}

async function run(p: Mm15MixtureParams, ctx: RunContext): Promise<RunSummary> {
  const emit = sampleEmitter(mm15MixtureSamples, ctx.emit);
  const arms = armsOf(p);
  const cpts = CPT_ORDER.filter((c) => arms.some((a) => MM15_ARM_SETUP[a].cpt === c));
  ctx.plan(['load bases', armsPhase(p, ctx.cores)]);
  ctx.progress('load bases', 0, cpts.length);
  // Trained the first time here, in the run's thread; the arms then load them from disk.
  const bases = [];
  for (const [i, cpt] of cpts.entries()) {
    const b = await ctx.require(baseKey(p, cpt));
    bases.push({ key: b.key, steps: b.steps, trainSeconds: b.trainSeconds, finalLoss: b.finalLoss });
    b.dispose();
    ctx.progress('load bases', i + 1, cpts.length);
  }
  emit('bases', bases);
  const results = await trainArms(p, ctx, arms);
  const scores = Object.fromEntries(results.map((r) => [r.arm, r.scores])) as Record<Mm15Arm, ArmResult['scores']>;
  for (const r of results) {
    emit('arm', { arm: r.arm, scores: r.scores, counts: r.counts, tokens: r.tokens });
    emit('predictions', { arm: r.arm, items: r.predictions });
  }
  const sftSteps = results.reduce((a, r) => a + r.steps, 0), sftMs = results.reduce((a, r) => a + r.ms, 0);
  const others = (arm: Mm15Arm) => MM15_CATEGORY_IDS.filter((c) => c !== 'grounding').reduce((a, c) => a + scores[arm][c].acc, 0) / (MM15_CATEGORY_IDS.length - 1);
  const mean = (arm: Mm15Arm) => MM15_CATEGORY_IDS.reduce((a, c) => a + scores[arm][c].acc, 0) / MM15_CATEGORY_IDS.length;
  const perArm = Object.fromEntries(arms.flatMap((a) => [
    [`meanAcc_${a}`, mean(a)],
    ...MM15_CATEGORY_IDS.flatMap((c) => [[`acc_${a}_${c}`, scores[a][c].acc], [`parseFail_${a}_${c}`, scores[a][c].parseFail]]),
  ])) as Record<string, number>;
  // Per-thread steps/s (threads share the cores, so the run's own rate is higher than one thread's).
  const stepsPerSec = sftSteps / (sftMs / 1000);
  if (p.arms === 'mixture') {
    // The base arm's own named metrics (α, CPT and text-only data as set), for the runs table and Compare.
    const metrics = { rgAcc_alpha2: scores.base.grounding.acc, textRichAcc_cptHigh: scores.base.textRich.acc, textOnlyAcc_withText: scores.base.textOnly.acc, stepsPerSec, ...perArm };
    for (const [k, v] of Object.entries(metrics)) ctx.metric(sftSteps, k, v);
    return { metrics, checks: {} };
  }
  const metrics = {
    rgAcc_alpha0: scores.rg0.grounding.acc, rgAcc_alpha2: scores.base.grounding.acc, othersAvg_alpha0: others('rg0'), othersAvg_alpha2: others('base'),
    textRichAcc_cptHigh: scores.base.textRich.acc, textRichAcc_cptLow: scores.cptLow.textRich.acc, textRichAcc_cptNone: scores.cptNone.textRich.acc,
    textOnlyAcc_withText: scores.base.textOnly.acc, textOnlyAcc_withoutText: scores.noText.textOnly.acc,
    stepsPerSec, ...perArm,
  };
  for (const [k, v] of Object.entries(metrics)) ctx.metric(sftSteps, k, v);
  return {
    metrics,
    checks: {
      rgGainAtLeast10pts: metrics.rgAcc_alpha2 - metrics.rgAcc_alpha0 >= 0.1,
      othersDropAtMost2pts: metrics.othersAvg_alpha0 - metrics.othersAvg_alpha2 <= 0.02,
      cptHighBeatsNone: metrics.textRichAcc_cptHigh > metrics.textRichAcc_cptNone,
    },
  };
}

export const mm15MixtureLab: LabDefinition<typeof mm15MixtureSpec.params> = {
  spec: mm15MixtureSpec,
  run,
};
