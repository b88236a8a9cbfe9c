// The registry of shared trained parts. A key names its family and recipe; its type says
// what `ctx.require(key)` returns, so a lab never states (or misstates) the part's type.
import type { SharedPart } from '../runtime/shared-parts';
import type { DatasetName } from '../runtime/datasets';
import type { ImageCodec } from '../nn/image-codec';
import type { SideKind } from '../data/side-info';
import { judgePart, TINY_JUDGE, type Judge } from './judge';
import { codecPart, TINY_CODEC } from './mse-codec';
import { priorPart, TINY_PRIOR, type DdpmPrior } from './prior';
import { storyLmPart, TINY_STORY_LM, type StoryLm } from './story-lm';
import { retrievalLmPart, RETRIEVAL_ATTENTION, RETRIEVAL_TRAINING, type RetrievalLm } from './retrieval-lm';
import { mm15BasePart, mm15CptPart, type Mm15Base } from './mm15-base';

/** 'judge:mnist', 'judge:fashion-mnist:tiny', … */
export type JudgeKey = `judge:${DatasetName}` | `judge:${DatasetName}:tiny`;
/** 'codec:mnist:0.008', 'codec:mnist:0.001:tiny', 'codec:mnist:0.0001:class' (side information Y at every scale), … */
type CodecStem = `codec:${DatasetName}:${number}` | `codec:${DatasetName}:${number}:${SideKind}`;
export type CodecKey = CodecStem | `${CodecStem}:tiny`;
/** 'prior:mnist', 'prior:mnist:tiny': the unconditional DDPM prior of the images. */
export type PriorKey = `prior:${DatasetName}` | `prior:${DatasetName}:tiny`;
/** 'lm:stories:d128', 'lm:stories:tiny': a BPE tokenizer and a decoder LM of the seeded stories. */
export type LmKey = 'lm:stories:d128' | 'lm:stories:tiny';
/** 'lm:longpi:full:levels', 'lm:longpi:sliding:random:tiny', …: longpibench's built-in retrieval decoders. */
export type RetrievalLmKey = `lm:longpi:${'full' | 'sliding'}:${'levels' | 'random'}` | `lm:longpi:${'full' | 'sliding'}:${'levels' | 'random'}:tiny`;
/** 'mm15:base:50-10-40', 'mm15:cpt:high:50-10-40:tiny', …: mm15-mixture's pre-trained and continually pre-trained tile LMs (the mix is caption-interleaved-text). */
type Mm15Stem = `mm15:base:${number}-${number}-${number}` | `mm15:cpt:${'high' | 'low'}:${number}-${number}-${number}`;
export type Mm15Key = Mm15Stem | `${Mm15Stem}:tiny`;
export type SharedPartKey = JudgeKey | CodecKey | PriorKey | LmKey | RetrievalLmKey | Mm15Key;
/** What a key's part loads as. */
export type SharedPartOf<K extends SharedPartKey> = K extends JudgeKey ? Judge : K extends CodecKey ? ImageCodec : K extends PriorKey ? DdpmPrior : K extends LmKey ? StoryLm
  : K extends RetrievalLmKey ? RetrievalLm : K extends Mm15Key ? Mm15Base : never;

/** 'codec:mnist:0.008' → the MSE codec trained at that λ; ':class' / ':mask', with that side information; ':tiny', a small one for smoke runs. */
function parseCodecKey(key: string) {
  const m = /^codec:(mnist|fashion-mnist):([0-9.e-]+)(?::(class|mask))?(:tiny)?$/.exec(key);
  if (!m || !(Number(m[2]) > 0)) return undefined;
  const side = m[3] ? { side: m[3] as SideKind } : {};
  return codecPart(m[1] as 'mnist' | 'fashion-mnist', Number(m[2]), { ...(m[4] ? TINY_CODEC : {}), ...side }, m[4] ? ':tiny' : '');
}

/** 'mm15:cpt:high:50-10-40:tiny' → that base; a mix of three non-negative numbers, not all 0. */
function parseMm15Key(key: string) {
  const m = /^mm15:(base|cpt:(high|low)):([0-9.]+)-([0-9.]+)-([0-9.]+)(:tiny)?$/.exec(key);
  if (!m) return undefined;
  const mix = [Number(m[3]), Number(m[4]), Number(m[5])] as const;
  if (mix.some((x) => !Number.isFinite(x)) || !(mix[0] + mix[1] + mix[2] > 0)) return undefined;
  return m[2] ? mm15CptPart(m[2] as 'high' | 'low', mix, !!m[6]) : mm15BasePart(mix, !!m[6]);
}

const FIXED: Record<string, () => SharedPart<unknown>> = {
  'judge:mnist': () => judgePart('mnist'),
  'judge:fashion-mnist': () => judgePart('fashion-mnist'),
  'judge:mnist:tiny': () => judgePart('mnist', TINY_JUDGE, ':tiny'),
  'judge:fashion-mnist:tiny': () => judgePart('fashion-mnist', TINY_JUDGE, ':tiny'),
  'prior:mnist': () => priorPart('mnist'),
  'prior:fashion-mnist': () => priorPart('fashion-mnist'),
  'prior:mnist:tiny': () => priorPart('mnist', TINY_PRIOR, ':tiny'),
  'prior:fashion-mnist:tiny': () => priorPart('fashion-mnist', TINY_PRIOR, ':tiny'),
  'lm:stories:d128': () => storyLmPart(),
  'lm:stories:tiny': () => storyLmPart(TINY_STORY_LM, 'tiny'),
  ...Object.fromEntries(RETRIEVAL_ATTENTION.flatMap((a) => RETRIEVAL_TRAINING.flatMap((t) => [
    [`lm:longpi:${a}:${t}`, () => retrievalLmPart(a, t)],
    [`lm:longpi:${a}:${t}:tiny`, () => retrievalLmPart(a, t, true)],
  ]))),
};

/** The shared part for a key, or undefined when no such part exists (keys can come from user params at run time). */
export function sharedPart<K extends SharedPartKey>(key: K | string): SharedPart<SharedPartOf<K>> | undefined {
  return (FIXED[key]?.() ?? parseCodecKey(key) ?? parseMm15Key(key)) as SharedPart<SharedPartOf<K>> | undefined;
}
export const SHARED_PART_KEYS = [...Object.keys(FIXED), 'codec:<mnist|fashion-mnist>:<λ>[:class|:mask][:tiny]', 'mm15:<base|cpt:high|cpt:low>:<caption>-<interleaved>-<text>[:tiny]'];
