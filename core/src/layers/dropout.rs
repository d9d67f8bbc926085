//! `Dropout`: randomly zeroes inputs during training (inverted dropout, as Keras).

use core::marker::PhantomData;

use crate::{Layer, Params, Rng, Shape};

/// During training, sets each value to zero with probability `rate` and scales the others by
/// `1 / (1 - rate)`; at inference it is the identity. `RATE` is the rate's `f32` bit
/// pattern (see [`crate::activations::bits`]); `model!` writes it from `Dropout(0.2)`.
///
/// # Shapes
/// - input: `S`
/// - output: `S`
///
/// ```
/// use kerust::{layers::Dropout, activations::bits};
/// type D = Dropout<[f32; 16], { bits(0.25) }>;
/// assert_eq!(D::rate(), 0.25);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Dropout<S: Shape, const RATE: u32> {
    marker: PhantomData<S>,
}

impl<S: Shape, const RATE: u32> Dropout<S, RATE> {
    const CHECK: () = {
        let r = f32::from_bits(RATE);
        assert!(r >= 0.0 && r < 1.0, "Dropout: rate must be in [0, 1)");
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Dropout { marker: PhantomData }
    }

    /// The dropout rate.
    pub fn rate() -> f32 {
        let () = Self::CHECK;
        f32::from_bits(RATE)
    }
}

// SAFETY: zero-sized.
unsafe impl<S: Shape, const RATE: u32> Params for Dropout<S, RATE> {
    const COUNT: usize = 0;
    const ZERO: Self = Dropout::new();
}

impl<S: Shape, const RATE: u32> Layer for Dropout<S, RATE> {
    type Input = S;
    type Output = S;
    const KIND: &'static str = "Dropout";
    const CACHE: usize = S::LEN;

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        y[..batch * S::LEN].copy_from_slice(&x[..batch * S::LEN]);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, rng: &mut Rng) {
        let n = batch * S::LEN;
        let rate = Self::rate();
        let scale = 1.0 / (1.0 - rate);
        for ((m, yv), &xv) in cache[..n].iter_mut().zip(&mut y[..n]).zip(&x[..n]) {
            *m = if rng.uniform() < rate { 0.0 } else { scale };
            *yv = xv * *m;
        }
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
        if let Some(dx) = dx {
            let n = batch * S::LEN;
            for ((d, &g), &m) in dx[..n].iter_mut().zip(&dy[..n]).zip(&cache[..n]) {
                *d = g * m;
            }
        }
    }
}
