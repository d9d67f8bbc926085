//! `Flatten`: views a sample of any rank as a vector.

use core::marker::PhantomData;

use crate::{Layer, Params, Shape};

/// Flattens a sample of shape `S` into `[f32; N]` (`N` must equal `S::LEN`; `model!` writes
/// it for you). Channels-last row-major order, as Keras.
///
/// # Shapes
/// - input: `S`
/// - output: `[f32; N]`
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten<S: Shape, const N: usize> {
    marker: PhantomData<S>,
}

impl<S: Shape, const N: usize> Flatten<S, N> {
    const CHECK: () = assert!(S::LEN == N, "Flatten: N must equal the input's element count");

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Flatten { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<S: Shape, const N: usize> Params for Flatten<S, N> {
    const COUNT: usize = 0;
    const ZERO: Self = Flatten::new();
}

impl<S: Shape, const N: usize> Layer for Flatten<S, N> {
    type Input = S;
    type Output = [f32; N];
    const KIND: &'static str = "Flatten";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        y[..batch * N].copy_from_slice(&x[..batch * N]);
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
        if let Some(dx) = dx {
            dx[..batch * N].copy_from_slice(&dy[..batch * N]);
        }
    }
}
