//! `MaxPooling1D`: the largest value of each window of a sequence, per channel.

use super::pooling::{self, Axis, MAX_WINDOW_CELLS};
use crate::{Layer, Params, Rng};

/// Max pooling over steps (Keras `MaxPooling1D(pool_size, strides, padding)`), channels-last.
///
/// Each output value is the maximum of a window of `P` steps of one channel; windows move
/// by `S` steps. With `padding = "same"` the input is padded with `-inf` by `PAD` steps at
/// the start and by the rest, including any odd extra step, at the end (as Keras and TF).
/// A NaN in a window gives NaN.
///
/// Backward: each output's gradient goes to the *first* maximum of its window, as Keras
/// does with both the TF and the JAX backend. The training forward keeps, per output value,
/// the position of the winner within its window (an exact `f32` integer) in
/// [`Layer::CACHE`].
///
/// `model!` computes every parameter; a hand-written type whose numbers are not Keras's
/// (`OL` or `PAD` wrong for the input, pool size, strides and padding) fails to compile
/// when the layer is used.
///
/// # Shapes
/// - input: `[[f32; C]; L]` (steps, channels)
/// - output: `[[f32; C]; OL]`, where with `valid` padding `OL = (L - P) / S + 1` (rounded
///   down) and `PAD = 0`, and with `same` padding `OL = ceil(L / S)` and
///   `PAD = max((OL - 1) * S + P - L, 0) / 2`.
///
/// ```
/// use kerust::{layers::MaxPooling1D, Layer};
/// // MaxPooling1D(pool_size = 2, padding = "same") on 5 steps of 1 feature.
/// let pool = MaxPooling1D::<5, 1, 2, 2, 0, 3>::new();
/// let mut y = [0.0; 3];
/// pool.forward(&[1.0, 5.0, 2.0, 0.0, -3.0], &mut y, &mut [], 1);
/// assert_eq!(y, [5.0, 2.0, -3.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct MaxPooling1D<
    const L: usize,
    const C: usize,
    const P: usize,
    const S: usize,
    const PAD: usize,
    const OL: usize,
> {
    _private: (),
}

impl<const L: usize, const C: usize, const P: usize, const S: usize, const PAD: usize, const OL: usize>
    MaxPooling1D<L, C, P, S, PAD, OL>
{
    const STEPS: Axis = Axis {
        n: L,
        pool: P,
        stride: S,
        pad: PAD,
        out: OL,
    };
    const CHECK: () = {
        assert!(
            C > 0 && Self::STEPS.is_keras(),
            "MaxPooling1D: OL and PAD must be Keras's sizes for L, the pool, strides and padding"
        );
        assert!(
            Self::STEPS.max_cells() <= MAX_WINDOW_CELLS,
            "MaxPooling1D: a window may cover at most 2^24 input steps"
        );
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        MaxPooling1D { _private: () }
    }
}

// SAFETY: zero-sized.
unsafe impl<const L: usize, const C: usize, const P: usize, const S: usize, const PAD: usize, const OL: usize>
    Params for MaxPooling1D<L, C, P, S, PAD, OL>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<const L: usize, const C: usize, const P: usize, const S: usize, const PAD: usize, const OL: usize> Layer
    for MaxPooling1D<L, C, P, S, PAD, OL>
{
    type Input = [[f32; C]; L];
    type Output = [[f32; C]; OL];
    const KIND: &'static str = "MaxPooling1D";
    const CACHE: usize = OL * C;

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::max_forward(Axis::UNIT, Self::STEPS, C, x, y, None, batch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        pooling::max_forward(Axis::UNIT, Self::STEPS, C, x, y, Some(cache), batch);
    }

    fn backward(
        &self,
        _x: &[f32],
        _y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        if let Some(dx) = dx {
            pooling::max_backward(Axis::UNIT, Self::STEPS, C, cache, dy, dx, batch, None);
        }
    }

    // With disjoint windows (the usual stride = pool size), the mask of a ReLU before the
    // pooling is applied as the gradient is written: no pass of its own.
    const MASKS_RELU_INPUT: bool = Axis::UNIT.disjoint() && Self::STEPS.disjoint();

    fn backward_fresh_relu_input(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        pooling::max_backward_after_relu(Axis::UNIT, Self::STEPS, C, x, y, cache, dy, dx, batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_and_padding() {
        // MaxPooling1D(pool_size = 3, strides = 1, padding = "same") on [2, 2, -1, 2]:
        // windows [pad, 2, 2], [2, 2, -1], [2, -1, 2], [-1, 2, pad].
        let pool = MaxPooling1D::<4, 1, 3, 1, 1, 4>::new();
        let x = [2.0, 2.0, -1.0, 2.0];
        let (mut y, mut cache) = ([0.0; 4], [0.0; 4]);
        pool.forward_train(&x, &mut y, &mut cache, 1, &mut Rng::new(0));
        assert_eq!(y, [2.0, 2.0, 2.0, 2.0]);
        let (mut dy, mut dx) = ([1.0, 10.0, 100.0, 1000.0], [0.0; 4]);
        let mut grads = pool;
        pool.backward(&x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 1);
        // Each window's first maximum: steps 0, 0, 1, 3.
        assert_eq!(dx, [11.0, 100.0, 0.0, 1000.0]);
    }
}
