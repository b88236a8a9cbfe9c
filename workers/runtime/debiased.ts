// De-biased accuracy (MM-Ego's MDA): run every compared model without its visual input;
// B_m is the set of questions model m still gets right blind. A model's de-biased accuracy
// is its accuracy on the questions outside B_m, averaged over the compared models m:
// MDA_A = (1/M) Σ_m Acc_A(Q \ B_m). Questions any blind model can answer count less.

/** `correct[i]`: model A right on question i; `blindRight[m][i]`: model m right on it without video. */
export function debiasedAccuracy(correct: readonly boolean[], blindRight: readonly (readonly boolean[])[], subset?: readonly number[]): number {
  if (!blindRight.length) throw new RangeError('de-biased accuracy needs at least one blind model');
  const ids = subset ?? correct.map((_, i) => i);
  let sum = 0;
  for (const b of blindRight) {
    if (b.length !== correct.length) throw new RangeError(`a blind run answers ${b.length} questions, the model ${correct.length}`);
    const kept = ids.filter((i) => !b[i]);
    // A blind model right on every question leaves none: it contributes 0 (nothing is left that needs the video).
    sum += kept.length ? kept.filter((i) => correct[i]).length / kept.length : 0;
  }
  return sum / blindRight.length;
}

/** Plain accuracy over a subset of questions (all by default). */
export function accuracy(correct: readonly boolean[], subset?: readonly number[]): number {
  const ids = subset ?? correct.map((_, i) => i);
  return ids.length ? ids.filter((i) => correct[i]).length / ids.length : NaN;
}
