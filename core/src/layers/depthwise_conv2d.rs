//! `DepthwiseConv2D`: every input channel convolved with its own `M` filters,
//! `y = activation(depthwise(x, kernel) + bias)`, channels-last.

use core::marker::PhantomData;

use crate::activations::{Activation, Linear};
use crate::init::glorot_uniform;
use crate::kernels::elementwise::{accumulate_column_sums, add_row_bias};
use crate::kernels::im2col::{output_len, pad_before, ConvGeometry, PadMode};
use crate::layers::{BiasVec, Padding, Valid};
use crate::{Layer, Params, Rng};

/// Depthwise 2-D convolution of `H × W × C` channels-last images with a `KH × KW` window:
/// each input channel `c` is convolved with its own `M` filters (the depth multiplier), and
/// output channel `c * M + m` holds filter `m` of channel `c` (Keras `DepthwiseConv2D`,
/// `data_format = "channels_last"`). Channels are never mixed.
///
/// `SH, SW` are the strides, `DH, DW` the dilation rates, `OH, OW` the output size and
/// `CM = C * M` the output channels, which `model!` computes (as for
/// [`Conv2D`](crate::layers::Conv2D): `valid` `OH = floor((H - DH * (KH - 1) - 1) / SH) + 1`,
/// `same` `OH = ceil(H / SH)` with the odd padding row after); a type whose sizes disagree
/// fails to compile when the layer is used. `P` is the padding, `A` the activation, `B` the
/// bias (`[f32; CM]` or [`NoBias`](crate::layers::NoBias)).
///
/// The kernel is stored as Keras stores it, `[KH, KW, C, M]` row-major, so Keras weights
/// load as they are; Keras names it `kernel`. Initialisation as Keras's: Glorot uniform with
/// the fans Keras computes for that shape (`compute_fans`: the last axis is the output, the
/// one before the input, the rest the receptive field), `fan_in = KH * KW * C`,
/// `fan_out = KH * KW * M`; zero bias.
///
/// A depthwise convolution is `C * M` small dot products per output position rather than
/// one matrix product, so it reads the input in place: no patches, no scratch. Training
/// keeps only the pre-activation (`OH * OW * CM` per sample) when `A` is not linear.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; CM]; OW]; OH]`
/// - kernel: `[[[[f32; M]; C]; KW]; KH]`, bias: `[f32; CM]`
///
/// ```
/// use kerust::{Layer, layers::DepthwiseConv2D, params::boxed_zeroed};
/// // Two channels, depth multiplier 2, a 1x2 kernel over a 1x3 image.
/// type Dw = DepthwiseConv2D<1, 3, 2, 1, 2, 1, 1, 1, 1, 1, 2, 2, 4>;
/// let mut dw = boxed_zeroed::<Dw>();
/// // Channel 0: filters (sum, difference); channel 1: filters (left, right).
/// dw.kernel = [[[[1.0, 1.0], [1.0, 0.0]], [[1.0, -1.0], [0.0, 1.0]]]];
/// let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0];
/// let mut y = [0.0; 8];
/// dw.forward(&x, &mut y, &mut [], 1);
/// assert_eq!(y, [3.0, -1.0, 10.0, 20.0, 5.0, -1.0, 20.0, 30.0]);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DepthwiseConv2D<
    const H: usize,
    const W: usize,
    const C: usize,
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
    B: BiasVec<CM> = [f32; CM],
> {
    /// Kernel, `[KH][KW][C][M]`.
    pub kernel: [[[[f32; M]; C]; KW]; KH],
    /// Bias, or [`NoBias`](crate::layers::NoBias).
    pub bias: B,
    marker: PhantomData<(P, A)>,
}

// SAFETY: repr(C) of f32 arrays and zero-sized markers; `flat` checks the size.
unsafe impl<
        const H: usize,
        const W: usize,
        const C: usize,
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
        B: BiasVec<CM>,
    > Params for DepthwiseConv2D<H, W, C, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>
{
    const COUNT: usize = KH * KW * C * M + if B::PRESENT { CM } else { 0 };
    const ZERO: Self = {
        let () = Self::CHECK;
        DepthwiseConv2D {
            kernel: [[[[0.0; M]; C]; KW]; KH],
            bias: B::ZERO,
            marker: PhantomData,
        }
    };
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
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
        B: BiasVec<CM>,
    > DepthwiseConv2D<H, W, C, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>
{
    /// The geometry, with the padding Keras uses.
    const OP: DepthwiseOp = DepthwiseOp::new::<P>([H, W, C], [KH, KW], [SH, SW], [DH, DW], [OH, OW], M);

    /// Rejects, when the layer is used, a type whose sizes are not Keras's.
    const CHECK: () = {
        assert!(
            KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0 && M > 0,
            "DepthwiseConv2D: kernel sizes, strides, dilation rates and the depth multiplier must be at least 1"
        );
        Self::OP.check();
        assert!(
            CM == C * M,
            "DepthwiseConv2D: CM must be the input channels times the depth multiplier, C * M"
        );
    };

    fn kernel_flat(&self) -> &[f32] {
        self.kernel.as_flattened().as_flattened().as_flattened()
    }
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
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
        B: BiasVec<CM>,
    > Layer for DepthwiseConv2D<H, W, C, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; CM]; OW]; OH];
    const KIND: &'static str = "DepthwiseConv2D";
    const CACHE: usize = if A::IS_LINEAR { 0 } else { OH * OW * CM };

    fn init(&mut self, rng: &mut Rng) {
        let () = Self::CHECK;
        let flat = self
            .kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        glorot_uniform(flat, KH * KW * C, KH * KW * M, rng);
        self.bias.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let y = &mut y[..batch * OH * OW * CM];
        Self::OP.forward(self.kernel_flat(), x, y, batch);
        add_row_bias(y, self.bias.values());
        A::forward_in_place(y, CM);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        let n = batch * OH * OW * CM;
        if A::IS_LINEAR {
            self.forward(x, y, &mut [], batch);
        } else {
            let z = &mut cache[..n];
            Self::OP.forward(self.kernel_flat(), x, z, batch);
            add_row_bias(z, self.bias.values());
            A::forward(z, &mut y[..n], CM);
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
        let () = Self::CHECK;
        let n = batch * OH * OW * CM;
        let dz = &mut dy[..n];
        if !A::IS_LINEAR {
            A::backward(&cache[..n], &y[..n], dz, CM);
        }
        accumulate_column_sums(grads.bias.values_mut(), dz);
        let grad_kernel = grads
            .kernel
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut();
        Self::OP.backward(self.kernel_flat(), x, dz, dx, grad_kernel, batch);
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        f("kernel", &[KH, KW, C, M], self.kernel_flat());
        if B::PRESENT {
            f("bias", &[CM], self.bias.values());
        }
    }
}

/// The math of a depthwise convolution on flat slices, shared with `SeparableConv2D`:
/// `z[b, i, j, c * m + k] = Σ x[b, i * sh + ki * dh - pt, j * sw + kj * dw - pl, c] kernel[ki, kj, c, k]`,
/// taps in the padding reading zero.
#[derive(Clone, Copy, Debug)]
pub(super) struct DepthwiseOp {
    /// The window geometry (`g.c` input channels).
    pub g: ConvGeometry,
    /// The depth multiplier.
    pub m: usize,
    /// The padding, to re-derive Keras's output size in [`DepthwiseOp::check`].
    pub mode: PadMode,
}

impl DepthwiseOp {
    /// The geometry of a layer with Keras's padding `P`.
    pub const fn new<P: Padding>(
        [h, w, c]: [usize; 3],
        [kh, kw]: [usize; 2],
        [sh, sw]: [usize; 2],
        [dh, dw]: [usize; 2],
        [oh, ow]: [usize; 2],
        m: usize,
    ) -> Self {
        DepthwiseOp {
            g: ConvGeometry {
                h,
                w,
                c,
                kh,
                kw,
                sh,
                sw,
                dh,
                dw,
                pt: pad_before(P::MODE, h, kh, sh, dh),
                pl: pad_before(P::MODE, w, kw, sw, dw),
                oh,
                ow,
            },
            m,
            mode: P::MODE,
        }
    }

    /// Asserts (at compile time, from a layer's `CHECK`) that the output size is Keras's.
    pub const fn check(&self) {
        let g = &self.g;
        assert!(
            !matches!(self.mode, PadMode::Causal),
            "depthwise convolution: causal padding is for 1-D convolutions only"
        );
        assert!(
            g.oh == output_len(self.mode, g.h, g.kh, g.sh, g.dh),
            "depthwise convolution: OH is not the output height Keras computes for this input, kernel, stride, dilation and padding"
        );
        assert!(
            g.ow == output_len(self.mode, g.w, g.kw, g.sw, g.dw),
            "depthwise convolution: OW is not the output width Keras computes for this input, kernel, stride, dilation and padding"
        );
        assert!(
            g.oh > 0 && g.ow > 0,
            "depthwise convolution: the kernel is larger than the (dilated) input"
        );
    }

    /// Output channels, `c * m`.
    const fn channels(&self) -> usize {
        self.g.c * self.m
    }

    /// Writes `z` (`batch * oh * ow * c * m` values), without bias, from `x`.
    pub fn forward(&self, kernel: &[f32], x: &[f32], z: &mut [f32], batch: usize) {
        let (g, m, cm) = (&self.g, self.m, self.channels());
        let z = &mut z[..batch * g.positions() * cm];
        z.fill(0.0);
        if cm == 0 || g.input_len() == 0 {
            return;
        }
        let mut rows = z.chunks_exact_mut(cm);
        for sample in x[..batch * g.input_len()].chunks_exact(g.input_len()) {
            for oi in 0..g.oh {
                for oj in 0..g.ow {
                    let Some(out) = rows.next() else { return };
                    for (tap, pixel) in self.taps(oi, oj) {
                        let xs = &sample[pixel * g.c..][..g.c];
                        let ks = &kernel[tap * cm..][..cm];
                        if m == 1 {
                            for ((o, &xv), &kv) in out.iter_mut().zip(xs).zip(ks) {
                                *o += xv * kv;
                            }
                        } else {
                            for ((o, &xv), k) in out.chunks_exact_mut(m).zip(xs).zip(ks.chunks_exact(m)) {
                                for (o, &kv) in o.iter_mut().zip(k) {
                                    *o += xv * kv;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds `dKernel` from `dz` (the gradient of `z`) and, when asked, writes `dx`.
    pub fn backward(
        &self,
        kernel: &[f32],
        x: &[f32],
        dz: &[f32],
        mut dx: Option<&mut [f32]>,
        grad_kernel: &mut [f32],
        batch: usize,
    ) {
        let (g, m, cm) = (&self.g, self.m, self.channels());
        let in_len = g.input_len();
        if let Some(dx) = dx.as_deref_mut() {
            dx[..batch * in_len].fill(0.0);
        }
        if cm == 0 || in_len == 0 {
            return;
        }
        let mut rows = dz[..batch * g.positions() * cm].chunks_exact(cm);
        for b in 0..batch {
            let sample = &x[b * in_len..][..in_len];
            for oi in 0..g.oh {
                for oj in 0..g.ow {
                    let Some(d) = rows.next() else { return };
                    for (tap, pixel) in self.taps(oi, oj) {
                        let xs = &sample[pixel * g.c..][..g.c];
                        let gk = &mut grad_kernel[tap * cm..][..cm];
                        for ((gk, &xv), d) in gk.chunks_exact_mut(m).zip(xs).zip(d.chunks_exact(m)) {
                            for (gv, &dv) in gk.iter_mut().zip(d) {
                                *gv += xv * dv;
                            }
                        }
                        if let Some(dx) = dx.as_deref_mut() {
                            let ks = &kernel[tap * cm..][..cm];
                            let dxs = &mut dx[b * in_len + pixel * g.c..][..g.c];
                            for ((dxv, k), d) in dxs.iter_mut().zip(ks.chunks_exact(m)).zip(d.chunks_exact(m))
                            {
                                *dxv += k.iter().zip(d).map(|(k, d)| k * d).sum::<f32>();
                            }
                        }
                    }
                }
            }
        }
    }

    /// The kernel taps of output position `(oi, oj)` that read inside the input, as
    /// `(tap index ki * kw + kj, input pixel index r * w + q)`.
    fn taps(&self, oi: usize, oj: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let g = &self.g;
        (0..g.kh)
            .filter_map(move |ki| source(oi, g.sh, ki, g.dh, g.pt, g.h).map(|r| (ki, r)))
            .flat_map(move |(ki, r)| {
                (0..g.kw).filter_map(move |kj| {
                    source(oj, g.sw, kj, g.dw, g.pl, g.w).map(|q| (ki * g.kw + kj, r * g.w + q))
                })
            })
    }
}

/// The input row (or column) a kernel tap reads for an output index, `None` in the
/// padding: `out * stride + tap * dilation - pad_before`.
#[inline]
fn source(out: usize, stride: usize, tap: usize, dilation: usize, pad: usize, n: usize) -> Option<usize> {
    (out * stride + tap * dilation)
        .checked_sub(pad)
        .filter(|&i| i < n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activations::Relu;
    use crate::layers::{NoBias, Same};
    use alloc::vec::Vec;

    /// The definition, in f64: `y[b, i, j, c * M + m] = bias[c * M + m]
    /// + Σ x[b, i * SH + ki * DH - PT, j * SW + kj * DW - PL, c] kernel[ki, kj, c, m]`.
    fn direct(op: &DepthwiseOp, kernel: &[f32], bias: &[f32], x: &[f32], batch: usize) -> Vec<f64> {
        let (g, m) = (&op.g, op.m);
        let mut y = Vec::new();
        for b in 0..batch {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    for c in 0..g.c {
                        for k in 0..m {
                            let mut s = bias.get(c * m + k).map_or(0.0, |&v| f64::from(v));
                            for ki in 0..g.kh {
                                for kj in 0..g.kw {
                                    let r = (i * g.sh + ki * g.dh) as isize - g.pt as isize;
                                    let q = (j * g.sw + kj * g.dw) as isize - g.pl as isize;
                                    if r < 0 || q < 0 || r >= g.h as isize || q >= g.w as isize {
                                        continue;
                                    }
                                    let xv = x[b * g.input_len() + (r as usize * g.w + q as usize) * g.c + c];
                                    let kv = kernel[((ki * g.kw + kj) * g.c + c) * m + k];
                                    s += f64::from(xv) * f64::from(kv);
                                }
                            }
                            y.push(s);
                        }
                    }
                }
            }
        }
        y
    }

    fn check<L: Layer>(op: DepthwiseOp, relu: bool) {
        let mut layer = crate::params::boxed_zeroed::<L>();
        let mut rng = Rng::new(4);
        layer
            .flat_mut()
            .iter_mut()
            .for_each(|v| *v = rng.uniform_range(-1.0, 1.0));
        let batch = 3;
        let x: Vec<f32> = (0..batch * op.g.input_len())
            .map(|_| rng.uniform_range(-1.0, 1.0))
            .collect();
        let (kernel, bias) = layer.flat().split_at(op.g.kh * op.g.kw * op.g.c * op.m);
        let mut want = direct(&op, kernel, bias, &x, batch);
        if relu {
            want.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        let mut y = alloc::vec![f32::NAN; want.len()];
        layer.forward(&x, &mut y, &mut [], batch);
        let mut cache = alloc::vec![f32::NAN; batch * L::CACHE];
        let mut y2 = alloc::vec![f32::NAN; want.len()];
        layer.forward_train(&x, &mut y2, &mut cache, batch, &mut rng);
        for ((a, b), w) in y.iter().zip(&y2).zip(&want) {
            assert!(
                (f64::from(*a) - w).abs() < 1e-5 && a == b,
                "{op:?}: {a} {b} vs {w}"
            );
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        // Stride 2, `same` with an odd total padding, M = 2.
        type A = DepthwiseConv2D<5, 6, 2, 3, 2, 2, 1, 1, 1, 3, 6, 2, 4, Same>;
        check::<A>(A::OP, false);
        assert_eq!((A::OP.g.pt, A::OP.g.pl), (1, 0));
        // Dilation 2, `valid`, M = 3, relu, no bias.
        type B = DepthwiseConv2D<7, 5, 3, 2, 3, 1, 1, 2, 2, 5, 1, 3, 9, Valid, Relu, NoBias>;
        check::<B>(B::OP, true);
        // Strides and dilations together (Keras's depthwise layer accepts them).
        type C = DepthwiseConv2D<7, 7, 1, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1>;
        check::<C>(C::OP, false);
    }
}
