//! Activation layers (`Activation`, `ReLU`, `Softmax`, `LeakyReLU`, `ELU`, ...).

use core::marker::PhantomData;

use crate::activations::Activation;
use crate::{Layer, Params, Shape};

/// Applies the activation `A` to a sample of shape `S` (Keras `Activation(...)`, and the
/// dedicated layers `ReLU`, `Softmax`, `LeakyReLU`, `ELU`). Softmax works on the last axis.
///
/// # Shapes
/// - input: `S`
/// - output: `S`
///
/// ```
/// use kerust::{Layer, activations::Relu, layers::ActivationLayer};
/// let relu = ActivationLayer::<[f32; 3], Relu>::new();
/// let mut y = [0.0; 3];
/// relu.forward(&[-1.0, 0.5, 2.0], &mut y, &mut [], 1);
/// assert_eq!(y, [0.0, 0.5, 2.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct ActivationLayer<S: Shape, A: Activation> {
    marker: PhantomData<(S, A)>,
}

impl<S: Shape, A: Activation> ActivationLayer<S, A> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        ActivationLayer { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<S: Shape, A: Activation> Params for ActivationLayer<S, A> {
    const COUNT: usize = 0;
    const ZERO: Self = ActivationLayer::new();
}

/// The length of the last axis (softmax's row), 1 for scalars.
pub(crate) const fn last_dim<S: Shape>() -> usize {
    if S::RANK == 0 {
        1
    } else {
        S::DIMS[S::RANK - 1]
    }
}

impl<S: Shape, A: Activation> Layer for ActivationLayer<S, A> {
    type Input = S;
    type Output = S;
    const KIND: &'static str = "Activation";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let n = batch * S::LEN;
        A::forward(&x[..n], &mut y[..n], last_dim::<S>());
    }

    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        _cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let n = batch * S::LEN;
        if let Some(dx) = dx {
            A::backward(&x[..n], &y[..n], &mut dy[..n], last_dim::<S>());
            dx[..n].copy_from_slice(&dy[..n]);
        }
    }
}
