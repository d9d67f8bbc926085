//! `Conv2DTranspose`: the transpose (gradient) of a 2-D convolution, channels-last,
//! computed as one GEMM and `col2im`; its backward pass is a convolution (`im2col`, GEMM).

use core::marker::PhantomData;

use crate::activations::{Activation, Linear};
use crate::init::glorot_uniform;
use crate::kernels::elementwise::{accumulate_column_sums, add_row_bias};
use crate::kernels::gemm::{gemm, Op};
use crate::kernels::im2col::{col2im, im2col, ConvGeometry, PadMode};
use crate::layers::{BiasVec, Padding, Valid};
use crate::{Layer, Params, Rng};

/// Transposed 2-D convolution with `F` filters of `KH × KW` over `H × W × C` channels-last
/// images (Keras `Conv2DTranspose`, `data_format = "channels_last"`): each input pixel adds
/// its `C` values times the kernel onto a `KH × KW` window of the output, the windows `SH`,
/// `SW` apart. It is the gradient of a [`Conv2D`](crate::layers::Conv2D) from `OH × OW × F`
/// to `H × W × C` with the same kernel, strides, dilations and padding.
///
/// `SH, SW` are the strides, `DH, DW` the dilation rates, `P` the padding ([`Valid`] or
/// [`Same`](crate::layers::Same)), `A` the activation and `B` the bias (`[f32; F]` or
/// [`NoBias`](crate::layers::NoBias)). `OH, OW` are the output size, which `model!`
/// computes as Keras does from `output_padding` (`op`); with `k = DH * (KH - 1) + 1`:
/// - `valid`: `OH = (H - 1) * SH + k + op`, `op` defaulting to `max(k, SH) - k`;
/// - `same`: `OH = H * SH` by default, `OH = (H - 1) * SH + k % 2 + op` with `op` given;
///
/// and likewise for the width; Keras requires `op < SH`. The output size fixes `op`, and
/// with it where the output window starts: `valid` crops nothing, `same` crops
/// `k - 1 - min(ceil(t / 2), k - 1)` rows on top for a total padding
/// `t = OH - (H - 1) * SH + k - 2` (as Keras's JAX backend pads). A type whose `OH` or `OW`
/// is not one of these sizes fails to compile when the layer is used.
///
/// The kernel is stored as Keras stores it, `[KH, KW, F, C]` row-major (output channels
/// *before* input channels), so Keras weights load as they are. Initialisation as Keras's:
/// Glorot uniform with the fans Keras computes for that shape, `fan_in = KH * KW * F`,
/// `fan_out = KH * KW * C`; zero bias.
///
/// Forward: the columns `x · kernelᵀ` (`H * W` rows of `KH * KW * F` values per sample) are
/// the inference scratch, then `col2im` adds them onto the output. Backward: `im2col` of
/// the output gradient into the same columns, then two GEMMs. Training keeps the columns'
/// space, and the pre-activation (`OH * OW * F`) when `A` is not linear, in the cache. A
/// 1×1 kernel with stride 1 needs no columns.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; F]; OW]; OH]`
/// - kernel: `[[[[f32; C]; F]; KW]; KH]`, bias: `[f32; F]`
///
/// ```
/// use kerust::{Layer, layers::Conv2DTranspose, params::boxed_zeroed};
/// // Stride 2, a 1x2 kernel of ones, `valid`: every pixel becomes two.
/// type Up = Conv2DTranspose<1, 3, 1, 1, 1, 2, 1, 2, 1, 1, 1, 6>;
/// let mut up = boxed_zeroed::<Up>();
/// up.kernel = [[[[1.0]], [[1.0]]]];
/// let mut y = [0.0; 6];
/// let mut scratch = [0.0; <Up as Layer>::SCRATCH];
/// up.forward(&[1.0, 2.0, 3.0], &mut y, &mut scratch, 1);
/// assert_eq!(y, [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Conv2DTranspose<
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
    P: Padding = Valid,
    A: Activation = Linear,
    B: BiasVec<F> = [f32; F],
> {
    /// Kernel, `[KH][KW][F][C]`.
    pub kernel: [[[[f32; C]; F]; KW]; KH],
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
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Params for Conv2DTranspose<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>
{
    const COUNT: usize = KH * KW * F * C + if B::PRESENT { F } else { 0 };
    const ZERO: Self = {
        let () = Self::CHECK;
        Conv2DTranspose {
            kernel: [[[[0.0; C]; F]; KW]; KH],
            bias: B::ZERO,
            marker: PhantomData,
        }
    };
}

/// The extent of a dilated kernel, `dilation * (kernel - 1) + 1`.
const fn dilated(kernel: usize, dilation: usize) -> usize {
    dilation
        .saturating_mul(kernel.saturating_sub(1))
        .saturating_add(1)
}

/// Whether `out` is an output length Keras gives a transposed convolution of `n` values
/// along one axis, for some `output_padding` (or none).
const fn is_output_len(
    mode: PadMode,
    n: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> bool {
    let k = dilated(kernel, dilation);
    let Some(base) = n.checked_sub(1) else {
        return false;
    };
    let Some(base) = base.checked_mul(stride) else {
        return false;
    };
    // The smallest output, `output_padding = 0`; `output_padding < stride` above it.
    let first = match mode {
        PadMode::Valid => base.saturating_add(k),
        PadMode::Same => base + k % 2,
        PadMode::Causal => return false,
    };
    let default_same = matches!(mode, PadMode::Same) && matches!(n.checked_mul(stride), Some(v) if v == out);
    out > 0 && (default_same || (out >= first && out - first < stride))
}

/// Rows (or columns) cropped before the output's first: where the window of input pixel 0
/// starts. `same`: `k - 1 - left`, `left = min(ceil(t / 2), k - 1)` for the total padding
/// `t = out - (n - 1) * stride + k - 2` that Keras's JAX backend applies; `valid`: 0.
const fn crop_before(
    mode: PadMode,
    n: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> usize {
    let k = dilated(kernel, dilation);
    match mode {
        PadMode::Same => {
            let total = (out + k).saturating_sub(2 + n.saturating_sub(1).saturating_mul(stride));
            let left = if total.div_ceil(2) < k - 1 {
                total.div_ceil(2)
            } else {
                k - 1
            };
            k - 1 - left
        }
        PadMode::Valid | PadMode::Causal => 0,
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
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Conv2DTranspose<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>
{
    /// The geometry of the convolution this layer transposes: from the output
    /// (`OH × OW × F`) to the input (`H × W × C`).
    const G: ConvGeometry = ConvGeometry {
        h: OH,
        w: OW,
        c: F,
        kh: KH,
        kw: KW,
        sh: SH,
        sw: SW,
        dh: DH,
        dw: DW,
        pt: crop_before(P::MODE, H, OH, KH, SH, DH),
        pl: crop_before(P::MODE, W, OW, KW, SW, DW),
        oh: H,
        ow: W,
    };

    /// Column values per sample, 0 when the input times the kernel is the output.
    const COLS: usize = if Self::G.is_pointwise() {
        0
    } else {
        Self::G.cols_len()
    };

    /// Rejects, when the layer is used, a type whose output size is not Keras's.
    const CHECK: () = {
        assert!(
            KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0,
            "Conv2DTranspose: kernel sizes, strides and dilation rates must be at least 1"
        );
        assert!(
            !matches!(P::MODE, PadMode::Causal),
            "Conv2DTranspose: causal padding is for Conv1D only"
        );
        assert!(
            is_output_len(P::MODE, H, OH, KH, SH, DH),
            "Conv2DTranspose: OH is not a Keras output height for this input, kernel, stride, dilation and padding"
        );
        assert!(
            is_output_len(P::MODE, W, OW, KW, SW, DW),
            "Conv2DTranspose: OW is not a Keras output width for this input, kernel, stride, dilation and padding"
        );
    };

    fn kernel_flat(&self) -> &[f32] {
        self.kernel.as_flattened().as_flattened().as_flattened()
    }

    /// `z = col2im(x · kernelᵀ) + bias`; `cols` holds the columns (unused when pointwise).
    fn linear(&self, x: &[f32], cols: &mut [f32], z: &mut [f32], batch: usize) {
        let (g, m) = (&Self::G, batch * H * W);
        let z = &mut z[..batch * OH * OW * F];
        if g.is_pointwise() {
            gemm(m, F, C, 1.0, x, Op::N, self.kernel_flat(), Op::T, 0.0, z);
        } else {
            gemm(
                m,
                g.patch_len(),
                C,
                1.0,
                x,
                Op::N,
                self.kernel_flat(),
                Op::T,
                0.0,
                cols,
            );
            z.fill(0.0);
            col2im(g, cols, z, batch);
        }
        add_row_bias(z, self.bias.values());
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
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Layer for Conv2DTranspose<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; F]; OW]; OH];
    const KIND: &'static str = "Conv2DTranspose";
    const CACHE: usize = Self::COLS + if A::IS_LINEAR { 0 } else { OH * OW * F };
    const SCRATCH: usize = Self::COLS;

    fn init(&mut self, rng: &mut Rng) {
        let () = Self::CHECK;
        let flat = self
            .kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        // Keras's `compute_fans` reads `[KH, KW, F, C]` as (..., input, output).
        glorot_uniform(flat, KH * KW * F, KH * KW * C, rng);
        self.bias.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let n = batch * OH * OW * F;
        self.linear(x, &mut scratch[..batch * Self::COLS], y, batch);
        A::forward_in_place(&mut y[..n], F);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        let n = batch * OH * OW * F;
        let (cols, rest) = cache.split_at_mut(batch * Self::COLS);
        if A::IS_LINEAR {
            self.linear(x, cols, y, batch);
        } else {
            let z = &mut rest[..n];
            self.linear(x, cols, z, batch);
            A::forward(z, &mut y[..n], F);
        }
    }

    /// The backward of a transposed convolution is a convolution: `dcols = im2col(dz)`,
    /// `dKernel += dcolsᵀ · x`, `dBias += Σ dz`, `dx = dcols · kernel`.
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
        let (g, m) = (&Self::G, batch * H * W);
        let n = batch * OH * OW * F;
        let (cols, rest) = cache.split_at_mut(batch * Self::COLS);
        let dz = &mut dy[..n];
        if !A::IS_LINEAR {
            A::backward(&rest[..n], &y[..n], dz, F);
        }
        accumulate_column_sums(grads.bias.values_mut(), dz);
        let dcols: &[f32] = if g.is_pointwise() {
            dz
        } else {
            im2col(g, dz, cols, batch);
            cols
        };
        let grad_kernel = grads
            .kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        let k = g.patch_len();
        gemm(k, C, m, 1.0, dcols, Op::T, x, Op::N, 1.0, grad_kernel);
        if let Some(dx) = dx {
            gemm(m, C, k, 1.0, dcols, Op::N, self.kernel_flat(), Op::N, 0.0, dx);
        }
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        f("kernel", &[KH, KW, F, C], self.kernel_flat());
        if B::PRESENT {
            f("bias", &[F], self.bias.values());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_output_sizes() {
        // valid, no output_padding: (n - 1) s + max(k, s).
        assert!(is_output_len(PadMode::Valid, 3, 7, 3, 2, 1));
        assert!(is_output_len(PadMode::Valid, 3, 9, 2, 3, 1));
        assert!(!is_output_len(PadMode::Valid, 3, 6, 3, 2, 1));
        assert!(!is_output_len(PadMode::Valid, 3, 9, 3, 2, 1)); // op = 2 = s
                                                                // same: n s by default; (n - 1) s + k % 2 + op otherwise.
        assert!(is_output_len(PadMode::Same, 3, 6, 3, 2, 1));
        assert!(is_output_len(PadMode::Same, 3, 4, 2, 2, 1)); // op = 0
        assert!(is_output_len(PadMode::Same, 3, 5, 2, 2, 1)); // op = 1
        assert!(!is_output_len(PadMode::Same, 3, 7, 3, 2, 1));
        assert!(!is_output_len(PadMode::Same, 1, 0, 2, 2, 1)); // empty
                                                               // Dilation: k = 2 * (3 - 1) + 1 = 5.
        assert!(is_output_len(PadMode::Valid, 4, 8, 3, 1, 2));
    }

    #[test]
    fn keras_jax_crops() {
        // same, k = 3, s = 2, op = None: t = 3, left = 2, crop 0.
        assert_eq!(crop_before(PadMode::Same, 3, 6, 3, 2, 1), 0);
        // same, k = 3, s = 1: t = 2, left 1, crop 1 (the usual centred window).
        assert_eq!(crop_before(PadMode::Same, 5, 5, 3, 1, 1), 1);
        // same, k = 4, s = 2: t = 4, left 2, crop 1.
        assert_eq!(crop_before(PadMode::Same, 3, 6, 4, 2, 1), 1);
        // same, k = 1, s = 3: t = 2, left min(1, 0) = 0, crop 0.
        assert_eq!(crop_before(PadMode::Same, 3, 9, 1, 3, 1), 0);
        assert_eq!(crop_before(PadMode::Valid, 3, 7, 3, 2, 1), 0);
    }
}
