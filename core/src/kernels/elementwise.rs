//! Row-wise and element-wise helpers.

use crate::activations::Activation;

/// Adds `bias` (length `n`) to every row of the row-major `y` (`rows × n`).
pub fn add_row_bias(y: &mut [f32], bias: &[f32]) {
    let n = bias.len();
    if n == 0 {
        return;
    }
    for row in y.chunks_exact_mut(n) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Adds the column sums of the row-major `dy` (`rows × n`) to `db` (length `n`).
pub fn accumulate_column_sums(db: &mut [f32], dy: &[f32]) {
    let n = db.len();
    if n == 0 {
        return;
    }
    for row in dy.chunks_exact(n) {
        for (g, d) in db.iter_mut().zip(row) {
            *g += d;
        }
    }
}

/// Channels compared at a time by [`max_row_groups`] and max pooling's loops: one AVX-512
/// vector.
pub(crate) const LANES: usize = 16;

/// Whether `v` replaces `best` as a window's maximum: a larger value (so the first of equal
/// maxima stays), or the first NaN.
#[inline(always)]
pub(crate) fn replaces_max(v: f32, best: f32) -> bool {
    v > best || (v.is_nan() && !best.is_nan())
}

/// The maximum of each run of `cells` consecutive rows of `c` values of `z`, into the rows
/// of `y`: max pooling of values listed window by window (a convolution's output
/// positions in pool order). Within a run a value replaces the maximum when larger, so the
/// first of equal maxima stays, or when it is the run's first NaN: the rule of
/// `MaxPooling2D`, with its bits.
///
/// Compiled a second time for AVX-512 where `std` can detect it.
///
/// ```
/// use kerust::kernels::elementwise::max_row_groups;
/// // Two runs of two rows of two values.
/// let z = [1.0, 5.0, 3.0, 2.0, f32::NAN, 0.0, 7.0, 9.0];
/// let mut y = [0.0; 4];
/// max_row_groups(2, 2, &z, &mut y);
/// assert_eq!(y[..2], [3.0, 5.0]);
/// assert!(y[2].is_nan());
/// assert_eq!(y[3], 9.0);
/// ```
pub fn max_row_groups(cells: usize, c: usize, z: &[f32], y: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { max_row_groups_avx512(cells, c, z, y) };
    }
    max_row_groups_body(cells, c, z, y);
}

/// [`max_row_groups`] for CPUs with AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn max_row_groups_avx512(cells: usize, c: usize, z: &[f32], y: &mut [f32]) {
    max_row_groups_body(cells, c, z, y);
}

#[inline(always)]
pub(crate) fn max_row_groups_body(cells: usize, c: usize, z: &[f32], y: &mut [f32]) {
    if c == 0 || cells == 0 {
        return;
    }
    for (ys, win) in y.chunks_exact_mut(c).zip(z.chunks_exact(cells * c)) {
        // A larger value replaces the maximum (one `max` instruction), in registers a
        // group of channels at a time; NaN is tracked apart, and only a run holding one is
        // redone with `replaces_max`.
        let mut nan = false;
        let mut ch = 0;
        while ch + LANES <= c {
            let lanes = |r: usize| -> [f32; LANES] {
                win[r * c + ch..][..LANES]
                    .try_into()
                    .expect("a whole group of channels")
            };
            let mut m = lanes(0);
            let mut any = [false; LANES];
            for r in 0..cells {
                for ((m, any), v) in m.iter_mut().zip(&mut any).zip(lanes(r)) {
                    *any |= v.is_nan();
                    *m = if v > *m { v } else { *m };
                }
            }
            ys[ch..ch + LANES].copy_from_slice(&m);
            nan |= any.contains(&true);
            ch += LANES;
        }
        for (ch, y) in ys.iter_mut().enumerate().skip(ch) {
            let mut m = win[ch];
            for r in 0..cells {
                let v = win[r * c + ch];
                nan |= v.is_nan();
                m = if v > m { v } else { m };
            }
            *y = m;
        }
        if nan {
            ys.copy_from_slice(&win[..c]);
            for row in win.chunks_exact(c).skip(1) {
                for (m, &v) in ys.iter_mut().zip(row) {
                    *m = if replaces_max(v, *m) { v } else { *m };
                }
            }
        }
    }
}

/// `y = A(x)` along rows of `row` values ([`Activation::forward`]), compiled a second time
/// for AVX-512 where `std` can detect it: the same scalar operations on wider vectors (Rust
/// never fuses a multiply and an add), so the same bits.
pub fn activation_forward<A: Activation>(x: &[f32], y: &mut [f32], row: usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { activation_forward_avx512::<A>(x, y, row) };
    }
    A::forward(x, y, row);
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn activation_forward_avx512<A: Activation>(x: &[f32], y: &mut [f32], row: usize) {
    A::forward(x, y, row);
}

/// `dy = A'(x) · dy` ([`Activation::backward`]), multiversioned as [`activation_forward`].
pub fn activation_backward<A: Activation>(x: &[f32], y: &[f32], dy: &mut [f32], row: usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { activation_backward_avx512::<A>(x, y, dy, row) };
    }
    A::backward(x, y, dy, row);
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn activation_backward_avx512<A: Activation>(x: &[f32], y: &[f32], dy: &mut [f32], row: usize) {
    A::backward(x, y, dy, row);
}

/// `y += alpha * x`.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += alpha * xv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_and_column_sums() {
        let mut y = [1.0, 2.0, 3.0, 4.0];
        add_row_bias(&mut y, &[10.0, 20.0]);
        assert_eq!(y, [11.0, 22.0, 13.0, 24.0]);
        let mut db = [1.0, 1.0];
        accumulate_column_sums(&mut db, &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(db, [5.0, 7.0]);
        let mut z = [1.0, 1.0];
        axpy(2.0, &[1.0, 3.0], &mut z);
        assert_eq!(z, [3.0, 7.0]);
    }
}
