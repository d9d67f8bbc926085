//! `Conv2D`: a 2-D convolution over channels-last images, `y = activation(x ⋆ kernel + bias)`,
//! computed as `im2col` and one GEMM.

use core::marker::PhantomData;

use crate::activations::{Activation, Linear};
use crate::init::glorot_uniform;
use crate::kernels::elementwise::{accumulate_column_sums, activation_forward};
use crate::kernels::gemm::{gemm, gemm_bias_relu, Op};
#[cfg(feature = "alloc")]
use crate::kernels::gemm::{gemm_gather, gemm_gather_max_rows};
#[cfg(feature = "alloc")]
use crate::kernels::im2col::Patches;
use crate::kernels::im2col::{col2im, im2col, output_len, pad_before, ConvGeometry, PadMode};
use crate::layers::{activation_grad, is_relu, keeps_pre_activation, BiasVec, MaxPoolWindows};
use crate::{Layer, Params, Rng};

/// A convolution's `padding`, as a type: [`Valid`], [`Same`] or (`Conv1D` only)
/// [`Causal`](crate::layers::Causal).
pub trait Padding: Copy + Default + core::fmt::Debug + Send + Sync + 'static {
    /// The mode.
    const MODE: PadMode;
}

/// `padding = valid`: no padding (Keras's default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Valid;

/// `padding = same`: zeros around the input so that the output has `ceil(n / stride)`
/// positions along each axis; an odd total goes after (bottom, right), as in Keras.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Same;

impl Padding for Valid {
    const MODE: PadMode = PadMode::Valid;
}

impl Padding for Same {
    const MODE: PadMode = PadMode::Same;
}

/// 2-D convolution with `F` filters of `KH × KW` over `H × W × C` channels-last images
/// (Keras `Conv2D`, `data_format = "channels_last"`).
///
/// `SH, SW` are the strides, `DH, DW` the dilation rates, `P` the padding ([`Valid`] or
/// [`Same`]), `A` the activation and `B` the bias (`[f32; F]` or
/// [`NoBias`](crate::layers::NoBias)). `OH, OW` are the output size, which `model!`
/// computes; a type whose `OH`, `OW` disagree with Keras's formula fails to compile when
/// the layer is used:
/// - `valid`: `OH = floor((H - DH * (KH - 1) - 1) / SH) + 1`, which must be at least 1;
/// - `same`: `OH = ceil(H / SH)`, zero padding `max((OH - 1) * SH + DH * (KH - 1) + 1 - H, 0)`
///   of which half (rounded down) goes on top and the rest at the bottom;
///
/// and likewise for the width. Keras rejects strides above 1 together with dilations above
/// 1 (so does `model!`); this type computes that combination correctly too.
///
/// The kernel is stored as Keras stores it, `[KH, KW, C, F]` row-major, so Keras weights
/// load as they are. Initialisation: Glorot uniform with `fan_in = KH * KW * C`,
/// `fan_out = KH * KW * F`; zero bias.
///
/// Training keeps the `OH * OW * KH * KW * C` patches of each sample (and the
/// pre-activation, `OH * OW * F`, when `A` is not linear) in the cache; inference uses as
/// many patches as scratch. A 1×1 kernel with stride 1 and no padding needs no patches.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; F]; OW]; OH]`
/// - kernel: `[[[[f32; F]; C]; KW]; KH]`, bias: `[f32; F]`
///
/// ```
/// use kerust::{Layer, layers::{Conv2D, Same}, params::boxed_zeroed};
/// // A 3x3 box filter with `same` padding on a 3x3 single-channel image.
/// type Box3 = Conv2D<3, 3, 1, 1, 3, 3, 1, 1, 1, 1, 3, 3, Same>;
/// let mut conv = boxed_zeroed::<Box3>();
/// conv.kernel = [[[[1.0]]; 3]; 3];
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
/// let mut y = [0.0; 9];
/// let mut scratch = [0.0; <Box3 as Layer>::SCRATCH];
/// conv.forward(&x, &mut y, &mut scratch, 1);
/// assert_eq!(y, [12.0, 21.0, 16.0, 27.0, 45.0, 33.0, 24.0, 39.0, 28.0]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Conv2D<
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
    /// Kernel, `[KH][KW][C][F]`.
    pub kernel: [[[[f32; F]; C]; KW]; KH],
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
    > Params for Conv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>
{
    const COUNT: usize = KH * KW * C * F + if B::PRESENT { F } else { 0 };
    const ZERO: Self = {
        let () = Self::CHECK;
        Conv2D {
            kernel: [[[[0.0; F]; C]; KW]; KH],
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
        P: Padding,
        A: Activation,
        B: BiasVec<F>,
    > Conv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>
{
    /// The geometry, with the padding Keras uses.
    const OP: ConvOp = ConvOp {
        g: ConvGeometry {
            h: H,
            w: W,
            c: C,
            kh: KH,
            kw: KW,
            sh: SH,
            sw: SW,
            dh: DH,
            dw: DW,
            pt: pad_before(P::MODE, H, KH, SH, DH),
            pl: pad_before(P::MODE, W, KW, SW, DW),
            oh: OH,
            ow: OW,
        },
        f: F,
    };

    /// Rejects, when the layer is used, a type whose output size is not Keras's.
    const CHECK: () = {
        assert!(
            KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0,
            "Conv2D: kernel sizes, strides and dilation rates must be at least 1"
        );
        assert!(
            !matches!(P::MODE, PadMode::Causal),
            "Conv2D: causal padding is for Conv1D only"
        );
        assert!(
            OH == output_len(P::MODE, H, KH, SH, DH),
            "Conv2D: OH is not the output height Keras computes for this input, kernel, stride, dilation and padding"
        );
        assert!(
            OW == output_len(P::MODE, W, KW, SW, DW),
            "Conv2D: OW is not the output width Keras computes for this input, kernel, stride, dilation and padding"
        );
        assert!(
            OH > 0 && OW > 0,
            "Conv2D: the kernel is larger than the (dilated) input"
        );
    };

    fn kernel_flat(&self) -> &[f32] {
        self.kernel.as_flattened().as_flattened().as_flattened()
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
        let grads_kernel = grads
            .kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        let grads = (grads_kernel, grads.bias.values_mut());
        Self::OP.backward::<G>(self.kernel_flat(), x, y, cache, dy, dx, grads, batch, beta);
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
    > Layer for Conv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; F]; OW]; OH];
    const KIND: &'static str = "Conv2D";
    const CACHE: usize = Self::OP.cache_len::<A>();
    const SCRATCH: usize = Self::OP.scratch_len();

    fn init(&mut self, rng: &mut Rng) {
        let () = Self::CHECK;
        let flat = self
            .kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        glorot_uniform(flat, KH * KW * C, KH * KW * F, rng);
        self.bias.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        Self::OP.forward::<A>(self.kernel_flat(), self.bias.values(), x, y, scratch, batch);
    }

    fn forward_max_pooled(
        &self,
        pool: &MaxPoolWindows,
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
        batch: usize,
    ) {
        let () = Self::CHECK;
        Self::OP.forward_max_pooled::<A>(self.kernel_flat(), self.bias.values(), pool, x, y, scratch, batch);
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
        f("kernel", &[KH, KW, C, F], self.kernel_flat());
        if B::PRESENT {
            f("bias", &[F], self.bias.values());
        }
    }
}

/// The math of a convolution on flat slices, shared by `Conv2D` and `Conv1D` (`h = 1`):
/// patches (`im2col`) times the kernel `[kh * kw * c, f]`, plus bias, then the activation.
#[derive(Clone, Copy, Debug)]
pub(super) struct ConvOp {
    pub g: ConvGeometry,
    /// Filters.
    pub f: usize,
}

impl ConvOp {
    /// Patch values per sample, 0 when the input is its own patch matrix.
    const fn cols_len(&self) -> usize {
        if self.g.is_pointwise() {
            0
        } else {
            self.g.cols_len()
        }
    }

    /// Output values per sample.
    const fn out_len(&self) -> usize {
        self.g.positions() * self.f
    }

    /// Per-sample cache: the patches, then the pre-activation for activations other than
    /// the identity and ReLU (whose gradient comes from the output).
    pub const fn cache_len<A: Activation>(&self) -> usize {
        self.cols_len()
            + if keeps_pre_activation::<A>() {
                self.out_len()
            } else {
                0
            }
    }

    /// Whether the patches are read from the input in place ([`Patches`]) rather than
    /// copied out by `im2col`: with `alloc` (the blocked GEMM), where no window reaches
    /// into the padding.
    const fn gathers(&self) -> bool {
        cfg!(feature = "alloc") && !self.g.is_pointwise() && self.g.windows_inside()
    }

    /// The patches of `batch` samples of `x`, read in place, where [`ConvOp::gathers`].
    #[cfg(feature = "alloc")]
    fn patches<'a>(&self, x: &'a [f32], batch: usize) -> Option<Patches<'a>> {
        if self.gathers() {
            Patches::new(&self.g, x, batch)
        } else {
            None
        }
    }

    /// Per-sample inference scratch: the patches, unless they are read in place.
    pub const fn scratch_len(&self) -> usize {
        if self.gathers() {
            0
        } else {
            self.cols_len()
        }
    }

    /// `z = patches(x) · kernel + bias` for `batch` samples; `cols` holds the patches
    /// (unused when pointwise).
    #[allow(clippy::too_many_arguments)]
    fn linear(
        &self,
        kernel: &[f32],
        bias: &[f32],
        x: &[f32],
        cols: &mut [f32],
        z: &mut [f32],
        batch: usize,
        relu: bool,
    ) {
        let (m, k) = (batch * self.g.positions(), self.g.patch_len());
        #[cfg(feature = "alloc")]
        if let Some(patches) = self.patches(x, batch) {
            gemm_gather(
                self.f,
                1.0,
                &patches,
                kernel,
                Op::N,
                0.0,
                &mut z[..m * self.f],
                bias,
                relu,
            );
            return;
        }
        let patches: &[f32] = if self.g.is_pointwise() {
            x
        } else {
            im2col(&self.g, x, cols, batch);
            cols
        };
        gemm_bias_relu(m, self.f, k, patches, Op::N, kernel, Op::N, bias, relu, z);
    }

    /// Inference forward; `scratch` holds `batch * scratch_len()` values.
    pub fn forward<A: Activation>(
        &self,
        kernel: &[f32],
        bias: &[f32],
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
        batch: usize,
    ) {
        let n = batch * self.out_len();
        let cols = &mut scratch[..batch * self.scratch_len()];
        // ReLU is applied as the product's tiles are finished; other activations after.
        let relu = is_relu::<A>();
        self.linear(kernel, bias, x, cols, &mut y[..n], batch, relu);
        if !relu {
            A::forward_in_place(&mut y[..n], self.f);
        }
    }

    /// Inference forward then max pooling over `pool`'s windows into `y`; `scratch` holds
    /// `batch * (out_len() + scratch_len())` values. Where the patches are read in place and
    /// the windows are whole and disjoint, the product's rows are the windows' positions,
    /// window by window, and positions no window covers are never computed: each window's
    /// maximum is then taken over consecutive rows (for a shallow product, as they are
    /// computed, without writing them out). Every value has the bits it has computed in
    /// full, so the pooled values are the same as [`ConvOp::forward`]'s pooled.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_max_pooled<A: Activation>(
        &self,
        kernel: &[f32],
        bias: &[f32],
        pool: &MaxPoolWindows,
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
        batch: usize,
    ) {
        #[cfg(feature = "alloc")]
        if let Some(order) = pool.pool_order(self.g.oh, self.g.ow, self.f) {
            if let Some(patches) = self.patches(x, batch).and_then(|p| p.pooled(order)) {
                let (rows, windows) = (batch * order.positions(), batch * order.oh * order.ow);
                let relu = is_relu::<A>();
                let pooled = &mut y[..windows * self.f];
                // A shallow product whose activation is its epilogue's: each window's
                // maximum is kept in registers.
                if (relu || A::IS_LINEAR)
                    && gemm_gather_max_rows(self.f, &patches, kernel, bias, relu, order.cells(), pooled)
                {
                    return;
                }
                let z = &mut scratch[..rows * self.f];
                gemm_gather(self.f, 1.0, &patches, kernel, Op::N, 0.0, z, bias, relu);
                if !relu {
                    A::forward_in_place(z, self.f);
                }
                pool.forward_cells(z, pooled);
                return;
            }
        }
        let (mid, rest) = scratch.split_at_mut(batch * self.out_len());
        self.forward::<A>(kernel, bias, x, mid, rest, batch);
        pool.forward(mid, y, batch);
    }

    /// Training forward: keeps the patches and the pre-activation in `cache`.
    pub fn forward_train<A: Activation>(
        &self,
        kernel: &[f32],
        bias: &[f32],
        x: &[f32],
        y: &mut [f32],
        cache: &mut [f32],
        batch: usize,
    ) {
        let n = batch * self.out_len();
        let (cols, rest) = cache.split_at_mut(batch * self.cols_len());
        if !keeps_pre_activation::<A>() {
            self.linear(kernel, bias, x, cols, &mut y[..n], batch, !A::IS_LINEAR);
        } else {
            let z = &mut rest[..n];
            self.linear(kernel, bias, x, cols, z, batch, false);
            activation_forward::<A>(z, &mut y[..n], self.f);
        }
    }

    /// Backward: `dKernel = beta · dKernel + patchesᵀ · dz`, `dBias = beta · dBias + Σ dz`
    /// (`beta` 1 or 0), and when asked `dx = col2im(dz · kernelᵀ)`, the patch gradients
    /// overwriting the cached patches.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<A: Activation>(
        &self,
        kernel: &[f32],
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        (grad_kernel, grad_bias): (&mut [f32], &mut [f32]),
        batch: usize,
        beta: f32,
    ) {
        let (m, k, f) = (batch * self.g.positions(), self.g.patch_len(), self.f);
        let n = m * f;
        let (cols, rest) = cache.split_at_mut(batch * self.cols_len());
        let dz = &mut dy[..n];
        let z = if keeps_pre_activation::<A>() {
            &rest[..n]
        } else {
            &[][..]
        };
        activation_grad::<A>(z, &y[..n], dz, f);
        #[cfg(feature = "alloc")]
        let gathered = self.patches(x, batch).map(|p| {
            gemm_gather(f, 1.0, &p.transposed(), dz, Op::N, beta, grad_kernel, &[], false);
        });
        #[cfg(not(feature = "alloc"))]
        let gathered: Option<()> = None;
        if gathered.is_none() {
            let patches: &[f32] = if self.g.is_pointwise() { x } else { cols };
            gemm(k, f, m, 1.0, patches, Op::T, dz, Op::N, beta, grad_kernel);
        }
        if beta == 0.0 {
            grad_bias.fill(0.0);
        }
        accumulate_column_sums(grad_bias, dz);
        let Some(dx) = dx else { return };
        let dx = &mut dx[..batch * self.g.input_len()];
        if self.g.is_pointwise() {
            gemm(m, k, f, 1.0, dz, Op::N, kernel, Op::T, 0.0, dx);
        } else {
            gemm(m, k, f, 1.0, dz, Op::N, kernel, Op::T, 0.0, cols);
            dx.fill(0.0);
            col2im(&self.g, cols, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activations::Relu;
    use crate::layers::NoBias;
    use alloc::vec::Vec;

    /// The definition, in f64: `y[b, i, j, f] = bias[f] + Σ x[b, i*SH + ki*DH - PT, ...] k[ki, kj, c, f]`.
    fn direct<L: Layer>(layer: &L, g: &ConvGeometry, f: usize, x: &[f32], batch: usize) -> Vec<f64> {
        let p = layer.flat();
        let (kernel, bias) = p.split_at(g.patch_len() * f);
        let mut y = Vec::new();
        for b in 0..batch {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    for o in 0..f {
                        let mut s = bias.get(o).map_or(0.0, |&v| f64::from(v));
                        for ki in 0..g.kh {
                            for kj in 0..g.kw {
                                let r = (i * g.sh + ki * g.dh) as isize - g.pt as isize;
                                let q = (j * g.sw + kj * g.dw) as isize - g.pl as isize;
                                if r < 0 || q < 0 || r >= g.h as isize || q >= g.w as isize {
                                    continue;
                                }
                                for c in 0..g.c {
                                    let xv = x[b * g.input_len() + (r as usize * g.w + q as usize) * g.c + c];
                                    let kv = kernel[((ki * g.kw + kj) * g.c + c) * f + o];
                                    s += f64::from(xv) * f64::from(kv);
                                }
                            }
                        }
                        y.push(s);
                    }
                }
            }
        }
        y
    }

    fn check<L: Layer>(g: ConvGeometry, f: usize, relu: bool) {
        let mut layer = crate::params::boxed_zeroed::<L>();
        let mut rng = Rng::new(2);
        layer
            .flat_mut()
            .iter_mut()
            .for_each(|v| *v = rng.uniform_range(-1.0, 1.0));
        let batch = 3;
        let x: Vec<f32> = (0..batch * g.input_len())
            .map(|_| rng.uniform_range(-1.0, 1.0))
            .collect();
        let mut want = direct(&*layer, &g, f, &x, batch);
        if relu {
            want.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        let mut y = alloc::vec![f32::NAN; want.len()];
        let mut scratch = alloc::vec![f32::NAN; batch * L::SCRATCH];
        layer.forward(&x, &mut y, &mut scratch, batch);
        let mut cache = alloc::vec![f32::NAN; batch * L::CACHE];
        let mut y2 = alloc::vec![f32::NAN; want.len()];
        layer.forward_train(&x, &mut y2, &mut cache, batch, &mut rng);
        for ((a, b), w) in y.iter().zip(&y2).zip(&want) {
            assert!(
                (f64::from(*a) - w).abs() < 1e-5 && a == b,
                "{g:?}: {a} {b} vs {w}"
            );
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        type A = Conv2D<5, 6, 2, 3, 3, 2, 2, 1, 1, 1, 3, 6, Same>;
        check::<A>(A::OP.g, 3, false);
        assert_eq!((A::OP.g.pt, A::OP.g.pl), (1, 0));
        type B = Conv2D<7, 5, 3, 2, 2, 3, 1, 1, 2, 2, 5, 1, Valid, Relu, NoBias>;
        check::<B>(B::OP.g, 2, true);
        type C = Conv2D<4, 4, 3, 2, 1, 1, 1, 1, 1, 1, 4, 4, Same, Relu>;
        assert!(C::OP.g.is_pointwise());
        check::<C>(C::OP.g, 2, true);
    }
}
