//! `Dense`: a fully connected layer, `y = activation(x · kernel + bias)`.

use core::marker::PhantomData;

use crate::activations::{Activation, Linear};
use crate::init::glorot_uniform;
use crate::kernels::elementwise::{accumulate_column_sums, activation_forward};
use crate::kernels::gemm::{gemm, gemm_bias_relu, gemv_chain, Op};
use crate::layers::{activation_grad, is_relu, keeps_pre_activation};
use crate::{Layer, Params, Rng};

/// Storage for a dense layer's bias: `[f32; N]`, or [`NoBias`] for `use_bias = false`.
pub trait BiasVec<const N: usize>: Copy + Send + Sync + 'static {
    /// Whether there is a bias.
    const PRESENT: bool;
    /// The zero bias.
    const ZERO: Self;
    /// The bias values (empty without bias).
    fn values(&self) -> &[f32];
    /// The bias values, mutable (empty without bias).
    fn values_mut(&mut self) -> &mut [f32];
}

impl<const N: usize> BiasVec<N> for [f32; N] {
    const PRESENT: bool = true;
    const ZERO: Self = [0.0; N];
    fn values(&self) -> &[f32] {
        self
    }
    fn values_mut(&mut self) -> &mut [f32] {
        self
    }
}

/// The bias storage of a layer declared with `use_bias = false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoBias;

impl<const N: usize> BiasVec<N> for NoBias {
    const PRESENT: bool = false;
    const ZERO: Self = NoBias;
    fn values(&self) -> &[f32] {
        &[]
    }
    fn values_mut(&mut self) -> &mut [f32] {
        &mut []
    }
}

/// Fully connected layer from `I` to `O` units (Keras `Dense`).
///
/// The kernel is stored as Keras stores it, `[I, O]` row-major, so Keras weights load as
/// they are. Initialisation: Glorot uniform kernel, zero bias.
///
/// # Shapes
/// - input: `[f32; I]`
/// - output: `[f32; O]`
///
/// ```
/// use kerust::{Layer, Rng, activations::Relu, layers::Dense, params::boxed_zeroed};
/// let mut d = boxed_zeroed::<Dense<3, 2, Relu>>();
/// d.kernel = [[1.0, -1.0], [1.0, -1.0], [1.0, -1.0]];
/// let mut y = [0.0; 2];
/// d.forward(&[1.0, 2.0, 3.0], &mut y, &mut [], 1);
/// assert_eq!(y, [6.0, 0.0]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Dense<const I: usize, const O: usize, A: Activation = Linear, B: BiasVec<O> = [f32; O]> {
    /// Kernel, `[input units][output units]`.
    pub kernel: [[f32; O]; I],
    /// Bias, or [`NoBias`].
    pub bias: B,
    act: PhantomData<A>,
}

// SAFETY: repr(C) of f32 arrays and zero-sized markers; `flat` checks the size.
unsafe impl<const I: usize, const O: usize, A: Activation, B: BiasVec<O>> Params for Dense<I, O, A, B> {
    const COUNT: usize = I * O + if B::PRESENT { O } else { 0 };
    const ZERO: Self = Dense {
        kernel: [[0.0; O]; I],
        bias: B::ZERO,
        act: PhantomData,
    };
}

impl<const I: usize, const O: usize, A: Activation, B: BiasVec<O>> Dense<I, O, A, B> {
    fn kernel_flat(&self) -> &[f32] {
        self.kernel.as_flattened()
    }
}

impl<const I: usize, const O: usize, A: Activation, B: BiasVec<O>> Layer for Dense<I, O, A, B> {
    type Input = [f32; I];
    type Output = [f32; O];
    const KIND: &'static str = "Dense";
    const CACHE: usize = if keeps_pre_activation::<A>() { O } else { 0 };

    fn init(&mut self, rng: &mut Rng) {
        glorot_uniform(self.kernel.as_flattened_mut(), I, O, rng);
        self.bias.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let (k, bias) = (self.kernel_flat(), self.bias.values());
        if A::IS_LINEAR || is_relu::<A>() {
            gemm_bias_relu(batch, O, I, x, Op::N, k, Op::N, bias, !A::IS_LINEAR, y);
        } else {
            gemm_bias_relu(batch, O, I, x, Op::N, k, Op::N, bias, false, y);
            A::forward_in_place(&mut y[..batch * O], O);
        }
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let (k, bias) = (self.kernel_flat(), self.bias.values());
        if !keeps_pre_activation::<A>() {
            gemm_bias_relu(batch, O, I, x, Op::N, k, Op::N, bias, !A::IS_LINEAR, y);
        } else {
            let z = &mut cache[..batch * O];
            gemm_bias_relu(batch, O, I, x, Op::N, k, Op::N, bias, false, z);
            activation_forward::<A>(z, &mut y[..batch * O], O);
        }
    }

    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        self.backward_into(x, y, cache, dy, dx, grads, batch, 1.0);
    }

    fn backward_fresh(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        // The kernel gradient's product overwrites it (beta 0): no zeroing pass, no read.
        self.backward_into(x, y, cache, dy, dx, grads, batch, 0.0);
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        f("kernel", &[I, O], self.kernel_flat());
        if B::PRESENT {
            f("bias", &[O], self.bias.values());
        }
    }
}

impl<const I: usize, const O: usize, A: Activation, B: BiasVec<O>> Dense<I, O, A, B> {
    /// Inference of this layer and then `next`, as one step: `model!` runs two `Dense`
    /// layers in a row this way. `scratch` holds `batch * (O + O2)` values: this layer's
    /// output, then room for `next`'s.
    ///
    /// A single sample through a ReLU (or linear) layer takes [`gemv_chain`] where it runs
    /// (AVX-512F, the `parallel` feature, this layer at least 128 wide with a 64 Ki-float
    /// kernel, `next` at most 256 wide): each of two threads computes its half of this
    /// layer's output and that half's share of `next`'s, so the two products need one
    /// hand-off between the threads, not two. `next`'s sums are then taken in two halves,
    /// also when both halves run on the calling thread (helper off or busy): the same bits
    /// whichever thread ran what, within rounding of, not always equal to, the layers run
    /// one by one. Anything else runs the layers one by one.
    #[doc(hidden)]
    pub fn forward_chain<const O2: usize, A2: Activation, B2: BiasVec<O2>>(
        &self,
        next: &Dense<O, O2, A2, B2>,
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
        batch: usize,
    ) {
        let (h, rest) = scratch.split_at_mut(batch * O);
        if batch == 1
            && (A::IS_LINEAR || is_relu::<A>())
            && gemv_chain(
                (I, O, O2),
                x,
                (self.kernel_flat(), self.bias.values(), !A::IS_LINEAR),
                h,
                (next.kernel_flat(), next.bias.values(), is_relu::<A2>()),
                y,
                rest,
            )
        {
            if !A2::IS_LINEAR && !is_relu::<A2>() {
                A2::forward_in_place(&mut y[..O2], O2);
            }
            return;
        }
        Layer::forward(self, x, h, rest, batch);
        Layer::forward(next, h, y, rest, batch);
    }

    /// The backward pass, with the parameter gradients `beta · grads + ...` (`beta` 1 to add
    /// to them, 0 to overwrite them).
    #[allow(clippy::too_many_arguments)]
    fn backward_into(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
        beta: f32,
    ) {
        let dz = &mut dy[..batch * O];
        activation_grad::<A>(&cache[..Self::CACHE * batch], &y[..batch * O], dz, O);
        // dKernel += xᵀ · dz ; dBias += Σ rows dz ; dx = dz · kernelᵀ
        gemm(
            I,
            O,
            batch,
            1.0,
            x,
            Op::T,
            dz,
            Op::N,
            beta,
            grads.kernel.as_flattened_mut(),
        );
        if beta == 0.0 {
            grads.bias.values_mut().fill(0.0);
        }
        accumulate_column_sums(grads.bias.values_mut(), dz);
        if let Some(dx) = dx {
            gemm(batch, I, O, 1.0, dz, Op::N, self.kernel_flat(), Op::T, 0.0, dx);
        }
    }
}
