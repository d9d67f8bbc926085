//! `AveragePooling1D`: the mean of each window of a sequence, per channel.

use super::pooling::{self, Axis};
use crate::{Layer, Params};

/// Average pooling over steps (Keras `AveragePooling1D(pool_size, strides, padding)`), channels-last.
///
/// Each output value is the mean of a window of `P` steps of one channel; windows move by
/// `S` steps. With `padding = "same"` the windows extend `PAD` steps before the input and
/// the rest, including any odd extra step, after it (as Keras and TF). **Padded steps are
/// not counted**: a window's mean is over the input steps it covers, as Keras computes it
/// with both the TF and the JAX backend.
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
/// use kerust::{layers::AveragePooling1D, Layer};
/// // AveragePooling1D(pool_size = 2, padding = "same") on 5 steps of 1 feature.
/// let pool = AveragePooling1D::<5, 1, 2, 2, 0, 3>::new();
/// let mut y = [0.0; 3];
/// pool.forward(&[1.0, 5.0, 2.0, 0.0, -3.0], &mut y, &mut [], 1);
/// assert_eq!(y, [3.0, 1.0, -3.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct AveragePooling1D<
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
    AveragePooling1D<L, C, P, S, PAD, OL>
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
            "AveragePooling1D: OL and PAD must be Keras's sizes for L, the pool, strides and padding"
        );
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        AveragePooling1D { _private: () }
    }
}

// SAFETY: zero-sized.
unsafe impl<const L: usize, const C: usize, const P: usize, const S: usize, const PAD: usize, const OL: usize>
    Params for AveragePooling1D<L, C, P, S, PAD, OL>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<const L: usize, const C: usize, const P: usize, const S: usize, const PAD: usize, const OL: usize> Layer
    for AveragePooling1D<L, C, P, S, PAD, OL>
{
    type Input = [[f32; C]; L];
    type Output = [[f32; C]; OL];
    const KIND: &'static str = "AveragePooling1D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::avg_forward(Axis::UNIT, Self::STEPS, C, x, y, batch);
    }

    fn backward(
        &self,
        _x: &[f32],
        _y: &[f32],
        _cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        if let Some(dx) = dx {
            pooling::avg_backward(Axis::UNIT, Self::STEPS, C, dy, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_does_not_count_padded_steps() {
        // AveragePooling1D(pool_size = 3, strides = 1, padding = "same") on [3, 6, 9, 12].
        let pool = AveragePooling1D::<4, 1, 3, 1, 1, 4>::new();
        let x = [3.0, 6.0, 9.0, 12.0];
        let mut y = [0.0; 4];
        pool.forward(&x, &mut y, &mut [], 1);
        assert_eq!(y, [4.5, 6.0, 9.0, 10.5]);
        let (mut dy, mut dx) = ([6.0; 4], [0.0; 4]);
        let mut grads = pool;
        pool.backward(&x, &y, &mut [], &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [5.0, 7.0, 7.0, 5.0]);
    }
}
