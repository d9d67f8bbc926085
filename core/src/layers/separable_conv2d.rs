//! `SeparableConv2D`: a depthwise convolution followed by a pointwise (1×1) one,
//! `y = activation(pointwise(depthwise(x)) + bias)`, channels-last.

use core::marker::PhantomData;

use super::depthwise_conv2d::DepthwiseOp;
use crate::activations::{Activation, Linear};
use crate::init::glorot_uniform;
use crate::kernels::elementwise::{accumulate_column_sums, add_row_bias};
use crate::kernels::gemm::{gemm, Op};
use crate::layers::{BiasVec, Padding, Valid};
use crate::{Layer, Params, Rng};

/// Depthwise separable 2-D convolution with `F` filters over `H × W × C` channels-last
/// images (Keras `SeparableConv2D`, `data_format = "channels_last"`): a depthwise
/// convolution with a `KH × KW` window and depth multiplier `M` (as
/// [`DepthwiseConv2D`](crate::layers::DepthwiseConv2D), without bias) gives `CM = C * M`
/// channels, which a pointwise convolution mixes into `F`, plus bias, then the activation.
///
/// `SH, SW` (strides), `DH, DW` (dilation rates), `P` (padding) and the output size
/// `OH, OW` are the depthwise step's, computed by `model!` as for
/// [`Conv2D`](crate::layers::Conv2D); a type whose sizes disagree with Keras's fails to
/// compile when the layer is used. `A` is the activation, `B` the bias (`[f32; F]` or
/// [`NoBias`](crate::layers::NoBias)).
///
/// The parameters are stored as Keras stores them, in Keras's order: `depthwise_kernel`
/// `[KH, KW, C, M]`, `pointwise_kernel` `[1, 1, CM, F]`, `bias` `[F]`. Initialisation as
/// Keras's: Glorot uniform for both kernels with the fans Keras computes for their shapes
/// (depthwise `fan_in = KH * KW * C`, `fan_out = KH * KW * M`; pointwise `fan_in = CM`,
/// `fan_out = F`); zero bias.
///
/// The depthwise output (`OH * OW * CM` per sample) is the inference scratch; training
/// keeps it, and the pre-activation (`OH * OW * F`) when `A` is not linear, in the cache.
/// The pointwise step is one GEMM.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; F]; OW]; OH]`
/// - depthwise kernel: `[[[[f32; M]; C]; KW]; KH]`, pointwise kernel:
///   `[[[[f32; F]; CM]; 1]; 1]`, bias: `[f32; F]`
///
/// ```
/// use kerust::{Layer, layers::SeparableConv2D, params::boxed_zeroed};
/// // A 1x2 box filter per channel, then the sum of both channels.
/// type Sep = SeparableConv2D<1, 3, 2, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 2>;
/// let mut sep = boxed_zeroed::<Sep>();
/// sep.depthwise_kernel = [[[[1.0], [1.0]], [[1.0], [1.0]]]];
/// sep.pointwise_kernel = [[[[1.0], [1.0]]]];
/// sep.bias = [0.5];
/// let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0];
/// let mut y = [0.0; 2];
/// let mut scratch = [0.0; <Sep as Layer>::SCRATCH];
/// sep.forward(&x, &mut y, &mut scratch, 1);
/// assert_eq!(y, [33.5, 55.5]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SeparableConv2D<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    const OH: usize,
    const OW: usize,
    const M: usize,
    const CM: usize,
    P: Padding = Valid,
    A: Activation = Linear,
    B: BiasVec<F> = [f32; F],
> {
    /// Depthwise kernel, `[KH][KW][C][M]`.
    pub depthwise_kernel: [[[[f32; M]; C]; KW]; KH],
    /// Pointwise kernel, `[1][1][CM][F]`.
    pub pointwise_kernel: [[[[f32; F]; CM]; 1]; 1],
    /// Bias, or [`NoBias`](crate::layers::NoBias).
    pub bias: B,
    marker: PhantomData<(P, A)>,
}

// SAFETY: repr(C) of f32 arrays and zero-sized markers; `flat` checks the size.
unsafe impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const OH: usize,
        const OW: usize,
        const M: usize,
        const CM: usize,
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Params for SeparableConv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>
{
    const COUNT: usize = KH * KW * C * M + CM * F + if B::PRESENT { F } else { 0 };
    const ZERO: Self = {
        let () = Self::CHECK;
        SeparableConv2D {
            depthwise_kernel: [[[[0.0; M]; C]; KW]; KH],
            pointwise_kernel: [[[[0.0; F]; CM]; 1]; 1],
            bias: B::ZERO,
            marker: PhantomData,
        }
    };
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const OH: usize,
        const OW: usize,
        const M: usize,
        const CM: usize,
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > SeparableConv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>
{
    /// The depthwise step's geometry, with the padding Keras uses.
    const OP: DepthwiseOp = DepthwiseOp::new::<P>([H, W, C], [KH, KW], [SH, SW], [DH, DW], [OH, OW], M);

    /// Rejects, when the layer is used, a type whose sizes are not Keras's.
    const CHECK: () = {
        assert!(
            KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0 && M > 0,
            "SeparableConv2D: kernel sizes, strides, dilation rates and the depth multiplier must be at least 1"
        );
        Self::OP.check();
        assert!(
            CM == C * M,
            "SeparableConv2D: CM must be the input channels times the depth multiplier, C * M"
        );
    };

    /// Depthwise values per sample.
    const INNER: usize = OH * OW * CM;

    fn depthwise_flat(&self) -> &[f32] {
        self.depthwise_kernel.as_flattened().as_flattened().as_flattened()
    }

    fn pointwise_flat(&self) -> &[f32] {
        self.pointwise_kernel.as_flattened().as_flattened().as_flattened()
    }

    /// `z = depthwise(x) · pointwise + bias`, the depthwise output left in `inner`.
    fn linear(&self, x: &[f32], inner: &mut [f32], z: &mut [f32], batch: usize) {
        let m = batch * OH * OW;
        Self::OP.forward(self.depthwise_flat(), x, inner, batch);
        gemm(m, F, CM, 1.0, inner, Op::N, self.pointwise_flat(), Op::N, 0.0, z);
        add_row_bias(&mut z[..m * F], self.bias.values());
    }
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const OH: usize,
        const OW: usize,
        const M: usize,
        const CM: usize,
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Layer for SeparableConv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; F]; OW]; OH];
    const KIND: &'static str = "SeparableConv2D";
    const CACHE: usize = Self::INNER + if A::IS_LINEAR { 0 } else { OH * OW * F };
    const SCRATCH: usize = Self::INNER;

    fn init(&mut self, rng: &mut Rng) {
        let () = Self::CHECK;
        let depthwise = self
            .depthwise_kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        glorot_uniform(depthwise, KH * KW * C, KH * KW * M, rng);
        let pointwise = self
            .pointwise_kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        glorot_uniform(pointwise, CM, F, rng);
        self.bias.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let n = batch * OH * OW * F;
        self.linear(x, &mut scratch[..batch * Self::INNER], &mut y[..n], batch);
        A::forward_in_place(&mut y[..n], F);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        let n = batch * OH * OW * F;
        let (inner, rest) = cache.split_at_mut(batch * Self::INNER);
        if A::IS_LINEAR {
            self.linear(x, inner, &mut y[..n], batch);
        } else {
            let z = &mut rest[..n];
            self.linear(x, inner, z, batch);
            A::forward(z, &mut y[..n], F);
        }
    }

    /// `dPointwise += innerᵀ · dz`, `dBias += Σ dz`, then `dInner = dz · pointwiseᵀ`
    /// (overwriting the cached depthwise output) through the depthwise backward.
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
        let () = Self::CHECK;
        let m = batch * OH * OW;
        let n = m * F;
        let (inner, rest) = cache.split_at_mut(batch * Self::INNER);
        let dz = &mut dy[..n];
        if !A::IS_LINEAR {
            A::backward(&rest[..n], &y[..n], dz, F);
        }
        let grad_pointwise = grads
            .pointwise_kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        gemm(CM, F, m, 1.0, inner, Op::T, dz, Op::N, 1.0, grad_pointwise);
        accumulate_column_sums(grads.bias.values_mut(), dz);
        gemm(m, CM, F, 1.0, dz, Op::N, self.pointwise_flat(), Op::T, 0.0, inner);
        let grad_depthwise = grads
            .depthwise_kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        Self::OP.backward(self.depthwise_flat(), x, inner, dx, grad_depthwise, batch);
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        f("depthwise_kernel", &[KH, KW, C, M], self.depthwise_flat());
        f("pointwise_kernel", &[1, 1, CM, F], self.pointwise_flat());
        if B::PRESENT {
            f("bias", &[F], self.bias.values());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activations::Tanh;
    use crate::layers::{Conv2D, DepthwiseConv2D, NoBias, Same};
    use alloc::vec::Vec;

    #[test]
    fn is_a_depthwise_then_a_pointwise_convolution() {
        type Sep = SeparableConv2D<5, 6, 2, 3, 3, 2, 2, 1, 1, 1, 3, 6, 2, 4, Same, Tanh>;
        type Dw = DepthwiseConv2D<5, 6, 2, 3, 2, 2, 1, 1, 1, 3, 6, 2, 4, Same, Linear, NoBias>;
        type Pw = Conv2D<3, 6, 4, 3, 1, 1, 1, 1, 1, 1, 3, 6, Valid, Tanh>;
        let mut rng = Rng::new(6);
        let mut sep = crate::params::boxed_zeroed::<Sep>();
        sep.flat_mut()
            .iter_mut()
            .for_each(|v| *v = rng.uniform_range(-1.0, 1.0));
        let (mut dw, mut pw) = (
            crate::params::boxed_zeroed::<Dw>(),
            crate::params::boxed_zeroed::<Pw>(),
        );
        let (depthwise, rest) = sep.flat().split_at(Dw::COUNT);
        dw.flat_mut().copy_from_slice(depthwise);
        pw.flat_mut().copy_from_slice(rest);
        let batch = 2;
        let x: Vec<f32> = (0..batch * 60).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
        let mut inner = alloc::vec![0.0; batch * 72];
        dw.forward(&x, &mut inner, &mut [], batch);
        let mut want = alloc::vec![0.0; batch * 54];
        pw.forward(&inner, &mut want, &mut [], batch);
        let mut y = alloc::vec![f32::NAN; want.len()];
        let mut scratch = alloc::vec![f32::NAN; batch * Sep::SCRATCH];
        sep.forward(&x, &mut y, &mut scratch, batch);
        for (a, w) in y.iter().zip(&want) {
            assert!((a - w).abs() < 1e-6, "{a} vs {w}");
        }
    }
}
