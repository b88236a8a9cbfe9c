import type { SharedPart } from '../runtime/shared-parts';
import { judgePart } from './judge';

export const SHARED_PARTS: Record<string, () => SharedPart<unknown>> = {
  'judge:mnist': () => judgePart('mnist'),
  'judge:fashion-mnist': () => judgePart('fashion-mnist'),
};
