// An exponential moving average of a model's weights (warmed up as min(decay, (1+step)/(10+step))),
// swapped into the model when training ends. decay 0: no average, nothing kept.
import * as tf from '@tensorflow/tfjs';

export class WeightEma {
  private readonly copies: tf.Tensor[];

  constructor(private readonly vars: readonly tf.Variable[], private readonly decay: number) {
    this.copies = decay > 0 ? vars.map((v) => tf.tidy(() => tf.clone(v))) : [];
  }

  /** After optimizer step `step` (1-based). */
  update(step: number): void {
    if (!this.copies.length) return;
    const d = Math.min(this.decay, (1 + step) / (10 + step));
    tf.tidy(() => this.copies.forEach((e, i) => { const next = e.mul(d).add(this.vars[i].mul(1 - d)); e.dispose(); this.copies[i] = tf.keep(next); }));
  }

  /** The averaged weights into the model. */
  swapIn(): void { this.copies.forEach((e, i) => this.vars[i].assign(e)); }

  dispose(): void { tf.dispose(this.copies); }
}
