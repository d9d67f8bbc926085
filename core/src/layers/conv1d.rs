//! `Conv1D`: a 1-D convolution over channels-last sequences, computed as the 2-D one on a
//! single row.

use core::marker::PhantomData;

use super::conv2d::{ConvOp, Padding};
use crate::activations::{Activation, Linear};
use crate::init::glorot_uniform;
use crate::kernels::im2col::{output_len, pad_before, ConvGeometry, PadMode};
use crate::layers::{BiasVec, Valid};
use crate::{Layer, Params, Rng};

/// `padding = causal` (`Conv1D` only): `D * (K - 1)` zeros before the sequence and none
/// after, so that `output[t]` depends on `input[..=t * S]` only; `ceil(L / S)` outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Causal;

impl Padding for Causal {
    const MODE: PadMode = PadMode::Causal;
}

/// 1-D convolution with `F` filters of width `K` over sequences of `L` steps of `C`
/// channels (Keras `Conv1D`, `data_format = "channels_last"`).
///
/// `S` is the stride, `D` the dilation rate, `P` the padding ([`Valid`],
/// [`Same`](crate::layers::Same) or [`Causal`]), `A` the activation and `B` the bias
/// (`[f32; F]` or [`NoBias`](crate::layers::NoBias)). `OL`, the output length, is what
/// `model!` computes; a type whose `OL` is not Keras's fails to compile when the layer is
/// used: `valid`: `floor((L - D * (K - 1) - 1) / S) + 1` (at least 1); `same` and
/// `causal`: `ceil(L / S)`. Padding as [`Conv2D`](crate::layers::Conv2D).
///
/// The kernel is stored as Keras stores it, `[K, C, F]`. Initialisation: Glorot uniform
/// with `fan_in = K * C`, `fan_out = K * F`; zero bias. Cache and scratch as `Conv2D`.
///
/// # Shapes
/// - input: `[[f32; C]; L]`
/// - output: `[[f32; F]; OL]`
/// - kernel: `[[[f32; F]; C]; K]`, bias: `[f32; F]`
///
/// ```
/// use kerust::{Layer, layers::{Causal, Conv1D}, params::boxed_zeroed};
/// // A causal difference filter: y[t] = x[t] - x[t - 1].
/// type Diff = Conv1D<4, 1, 1, 2, 1, 1, 4, Causal>;
/// let mut conv = boxed_zeroed::<Diff>();
/// conv.kernel = [[[-1.0]], [[1.0]]];
/// let mut y = [0.0; 4];
/// let mut scratch = [0.0; <Diff as Layer>::SCRATCH];
/// conv.forward(&[1.0, 3.0, 6.0, 10.0], &mut y, &mut scratch, 1);
/// assert_eq!(y, [1.0, 2.0, 3.0, 4.0]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Conv1D<
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    const OL: usize,
    P: Padding = Valid,
    A: Activation = Linear,
    B: BiasVec<F> = [f32; F],
> {
    /// Kernel, `[K][C][F]`.
    pub kernel: [[[f32; F]; C]; K],
    /// Bias, or [`NoBias`](crate::layers::NoBias).
    pub bias: B,
    marker: PhantomData<(P, A)>,
}

// SAFETY: repr(C) of f32 arrays and zero-sized markers; `flat` checks the size.
unsafe impl<
        const L: usize,
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const OL: usize,
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Params for Conv1D<L, C, F, K, S, D, OL, P, A, B>
{
    const COUNT: usize = K * C * F + if B::PRESENT { F } else { 0 };
    const ZERO: Self = {
        let () = Self::CHECK;
        Conv1D {
            kernel: [[[0.0; F]; C]; K],
            bias: B::ZERO,
            marker: PhantomData,
        }
    };
}

impl<
        const L: usize,
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const OL: usize,
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Conv1D<L, C, F, K, S, D, OL, P, A, B>
{
    /// The 2-D geometry of one row.
    const OP: ConvOp = ConvOp {
        g: ConvGeometry {
            h: 1,
            w: L,
            c: C,
            kh: 1,
            kw: K,
            sh: 1,
            sw: S,
            dh: 1,
            dw: D,
            pt: 0,
            pl: pad_before(P::MODE, L, K, S, D),
            oh: 1,
            ow: OL,
        },
        f: F,
    };

    /// Rejects, when the layer is used, a type whose output length is not Keras's.
    const CHECK: () = {
        assert!(
            K > 0 && S > 0 && D > 0,
            "Conv1D: the kernel size, stride and dilation rate must be at least 1"
        );
        assert!(
            OL == output_len(P::MODE, L, K, S, D),
            "Conv1D: OL is not the output length Keras computes for this input, kernel, stride, dilation and padding"
        );
        assert!(OL > 0, "Conv1D: the kernel is longer than the (dilated) input");
    };

    fn kernel_flat(&self) -> &[f32] {
        self.kernel.as_flattened().as_flattened()
    }

    /// The backward pass, with the parameter gradients `beta · grads + ...` (`beta` 1 to add
    /// to them, 0 to overwrite them), applying `G`'s gradient to `dy`: `A`'s, or [`Linear`]'s
    /// (none) when `dy` already holds the gradient before a ReLU.
    #[allow(clippy::too_many_arguments)]
    fn backward_into<G: Activation>(
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
        let () = Self::CHECK;
        let grads = (
            grads.kernel.as_flattened_mut().as_flattened_mut(),
            grads.bias.values_mut(),
        );
        Self::OP.backward::<G>(self.kernel_flat(), x, y, cache, dy, dx, grads, batch, beta);
    }
}

impl<
        const L: usize,
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const OL: usize,
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Layer for Conv1D<L, C, F, K, S, D, OL, P, A, B>
{
    type Input = [[f32; C]; L];
    type Output = [[f32; F]; OL];
    const KIND: &'static str = "Conv1D";
    const CACHE: usize = Self::OP.cache_len::<A>();
    const SCRATCH: usize = Self::OP.scratch_len();

    fn init(&mut self, rng: &mut Rng) {
        let () = Self::CHECK;
        let flat = self.kernel.as_flattened_mut().as_flattened_mut();
        glorot_uniform(flat, K * C, K * F, rng);
        self.bias.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        Self::OP.forward::<A>(self.kernel_flat(), self.bias.values(), x, y, scratch, batch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        Self::OP.forward_train::<A>(self.kernel_flat(), self.bias.values(), x, y, cache, batch);
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
        self.backward_into::<A>(x, y, cache, dy, dx, grads, batch, 1.0);
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
        // The kernel gradient's product overwrites it: no zeroing pass.
        self.backward_into::<A>(x, y, cache, dy, dx, grads, batch, 0.0);
    }

    const RELU_OUTPUT: bool = A::IS_RELU;

    fn backward_fresh_premasked(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        if A::IS_RELU {
            // `dy` is already past the ReLU; ReLU keeps no pre-activation, so the cache
            // has the identity's layout.
            self.backward_into::<Linear>(x, y, cache, dy, dx, grads, batch, 0.0);
        } else {
            self.backward_into::<A>(x, y, cache, dy, dx, grads, batch, 0.0);
        }
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        f("kernel", &[K, C, F], self.kernel_flat());
        if B::PRESENT {
            f("bias", &[F], self.bias.values());
        }
    }
}
