// Straight-through estimators: the forward pass rounds (or floors), the backward pass is the
// identity, so a quantizer can sit inside a trained graph.
import * as tf from '@tensorflow/tfjs';

/** round() forward, identity backward. */
export const roundSTE = tf.customGrad((x) => ({ value: tf.round(x as tf.Tensor), gradFunc: (dy) => dy as tf.Tensor })) as (x: tf.Tensor) => tf.Tensor;
/** floor() forward, identity backward. */
export const floorSTE = tf.customGrad((x) => ({ value: tf.floor(x as tf.Tensor), gradFunc: (dy) => dy as tf.Tensor })) as (x: tf.Tensor) => tf.Tensor;
