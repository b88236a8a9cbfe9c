// WGAN-GP's losses (Gulrajani et al. 2017): the critic minimises
//   E[D(x̃)] − E[D(x)] + λ_gp · E[(‖∇ₓ D(x̂)‖₂ − 1)²],  x̂ = α·x + (1 − α)·x̃, α ~ U(0, 1) per image,
// the generator minimises −E[D(x̃)] (plus whatever fidelity term its caller adds). The
// penalty is taken with respect to the image only; the critic's context (the bits, the
// side information) is held fixed, as the conditional codec's development code does.
import * as tf from '@tensorflow/tfjs';
import { criticScores, type Critic } from '../nn/critic';

/** E[(‖∇ₓ D(x̂)‖₂ − 1)²] at x̂ = α·real + (1 − α)·fake; alpha [B, 1]. Differentiable in the critic's weights (a second-order gradient). */
export function gradientPenalty(critic: Critic, real: tf.Tensor2D, fake: tf.Tensor2D, alpha: tf.Tensor2D, context?: tf.Tensor2D): tf.Scalar {
  const mixed = real.mul(alpha).add(fake.mul(tf.scalar(1).sub(alpha))) as tf.Tensor2D;
  const grad = tf.grad((x: tf.Tensor) => criticScores(critic, x as tf.Tensor2D, context).sum())(mixed);
  // The small constant keeps the norm's own gradient finite where ∇ₓD is exactly zero.
  const norm = grad.square().sum(1).add(1e-12).sqrt();
  return norm.sub(1).square().mean() as tf.Scalar;
}

/** The critic's loss: E[D(fake)] − E[D(real)] + λ_gp · penalty; its parts for logging. */
export function criticLoss(critic: Critic, real: tf.Tensor2D, fake: tf.Tensor2D, alpha: tf.Tensor2D, lambdaGp: number, contextReal?: tf.Tensor2D, contextFake = contextReal) {
  const wasserstein = criticScores(critic, real, contextReal).mean().sub(criticScores(critic, fake, contextFake).mean()) as tf.Scalar;
  const penalty = gradientPenalty(critic, real, fake, alpha, contextReal);
  return { loss: penalty.mul(lambdaGp).sub(wasserstein) as tf.Scalar, wasserstein, penalty };
}

/** The generator's adversarial term: −E[D(fake)]. */
export function generatorAdversarialLoss(critic: Critic, fake: tf.Tensor2D, context?: tf.Tensor2D): tf.Scalar {
  return criticScores(critic, fake, context).mean().neg() as tf.Scalar;
}
