import type { SharedPart } from '../runtime/shared-parts';
import { judgePart, TINY_JUDGE } from './judge';
import { codecPart, TINY_CODEC } from './mse-codec';

/** 'codec:mnist:0.008' → the MSE codec trained at that λ; a ':tiny' suffix, a small one for smoke runs. */
function parseCodecKey(key: string) {
  const m = /^codec:(mnist|fashion-mnist):([0-9.e-]+)(:tiny)?$/.exec(key);
  if (!m || !(Number(m[2]) > 0)) return undefined;
  return codecPart(m[1] as 'mnist' | 'fashion-mnist', Number(m[2]), m[3] ? TINY_CODEC : {}, m[3] ? ':tiny' : '');
}

const FIXED: Record<string, () => SharedPart<unknown>> = {
  'judge:mnist': () => judgePart('mnist'),
  'judge:fashion-mnist': () => judgePart('fashion-mnist'),
  'judge:mnist:tiny': () => judgePart('mnist', TINY_JUDGE, ':tiny'),
  'judge:fashion-mnist:tiny': () => judgePart('fashion-mnist', TINY_JUDGE, ':tiny'),
};

/** The shared part for a key, or undefined when no such part exists. */
export function sharedPart(key: string): SharedPart<unknown> | undefined {
  return FIXED[key]?.() ?? (parseCodecKey(key) as SharedPart<unknown> | undefined);
}
export const SHARED_PART_KEYS = [...Object.keys(FIXED), 'codec:<mnist|fashion-mnist>:<λ>[:tiny]'];
