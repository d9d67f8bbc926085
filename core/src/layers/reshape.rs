//! `Reshape`: gives a sample another shape with the same number of values.

use core::marker::PhantomData;

use crate::{Layer, Params, Shape};

/// Reshapes a sample of shape `S` into `T` (same element count, row-major order, as Keras
/// `Reshape(target_shape)`).
///
/// # Shapes
/// - input: `S`
/// - output: `T`
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Reshape<S: Shape, T: Shape> {
    marker: PhantomData<(S, T)>,
}

impl<S: Shape, T: Shape> Reshape<S, T> {
    const CHECK: () = assert!(
        S::LEN == T::LEN,
        "Reshape: the target shape must hold as many values as the input"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Reshape { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<S: Shape, T: Shape> Params for Reshape<S, T> {
    const COUNT: usize = 0;
    const ZERO: Self = Reshape::new();
}

impl<S: Shape, T: Shape> Layer for Reshape<S, T> {
    type Input = S;
    type Output = T;
    const KIND: &'static str = "Reshape";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        y[..batch * T::LEN].copy_from_slice(&x[..batch * T::LEN]);
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
            dx[..batch * S::LEN].copy_from_slice(&dy[..batch * S::LEN]);
        }
    }
}
