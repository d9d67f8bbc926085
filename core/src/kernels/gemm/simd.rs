//! The vector operations the blocked GEMM is written in, one implementation per instruction
//! set. Every method is `#[inline(always)]`: the driver is instantiated inside a function
//! compiled for the instruction set (`#[target_feature]`), where they become single
//! instructions.

/// A vector of `W` lanes of `f32`.
pub(super) trait Simd: Copy {
    /// Lanes per vector.
    const W: usize;
    /// The vector.
    type V: Copy;

    /// All lanes `x`.
    unsafe fn splat(x: f32) -> Self::V;
    /// `W` lanes from `p` (any alignment).
    unsafe fn load(p: *const f32) -> Self::V;
    /// The first `n < W` lanes from `p`, the others zero.
    unsafe fn load_part(p: *const f32, n: usize) -> Self::V;
    /// `W` lanes to `p` (any alignment).
    unsafe fn store(p: *mut f32, v: Self::V);
    /// The first `n < W` lanes to `p`; the memory past them is not touched.
    unsafe fn store_part(p: *mut f32, v: Self::V, n: usize);
    /// `a * b + c`, rounded once where the instruction set fuses it.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a * b`.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// ReLU, lane by lane: `x` where `x > 0`, else `+0` (NaN gives `+0`).
    unsafe fn relu(x: Self::V) -> Self::V;
    /// Lane by lane, `v` where `v > m`, else `m` (so `m` where either is NaN).
    unsafe fn max_select(v: Self::V, m: Self::V) -> Self::V;
    /// Whether any lane is NaN.
    unsafe fn any_nan(v: Self::V) -> bool;

    /// Hints that the cache line at `p` is read soon (no effect where there is no such
    /// instruction; never faults).
    #[inline(always)]
    fn prefetch(_p: *const f32) {}

    /// Writes the transpose of the `W × W` block at `src` (rows `src_stride` apart) to `dst`
    /// (rows `dst_stride` apart).
    #[inline(always)]
    unsafe fn transpose(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
        for i in 0..Self::W {
            for j in 0..Self::W {
                // SAFETY: by the caller.
                unsafe { *dst.add(j * dst_stride + i) = *src.add(i * src_stride + j) };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    use super::Simd;

    /// AVX-512F: 16 lanes, masked partial loads and stores.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx512;

    impl Simd for Avx512 {
        const W: usize = 16;
        type V = __m512;

        #[inline(always)]
        unsafe fn splat(x: f32) -> __m512 {
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn load_part(p: *const f32, n: usize) -> __m512 {
            unsafe { _mm512_maskz_loadu_ps(((1u32 << n) - 1) as u16, p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            unsafe { _mm512_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn store_part(p: *mut f32, v: __m512, n: usize) {
            unsafe { _mm512_mask_storeu_ps(p, ((1u32 << n) - 1) as u16, v) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn mul(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_mul_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn relu(x: __m512) -> __m512 {
            // `max` returns its second operand unless the first is greater: +0 for NaN, -0, <= 0.
            unsafe { _mm512_max_ps(x, _mm512_setzero_ps()) }
        }
        #[inline(always)]
        unsafe fn max_select(v: __m512, m: __m512) -> __m512 {
            // `max(v, m)` is `v > m ? v : m`, lane by lane.
            unsafe { _mm512_max_ps(v, m) }
        }
        #[inline(always)]
        unsafe fn any_nan(v: __m512) -> bool {
            unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) != 0 }
        }
        #[inline(always)]
        fn prefetch(p: *const f32) {
            // SAFETY: a prefetch only hints the cache; it does not fault on any address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
        }
        #[inline(always)]
        unsafe fn transpose(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
            // SAFETY: by the caller.
            unsafe {
                let r: [__m512; 16] = core::array::from_fn(|i| _mm512_loadu_ps(src.add(i * src_stride)));
                // Within each 128-bit lane L: rows 2i, 2i+1 interleaved (columns 4L, 4L+1 in
                // t[2i], columns 4L+2, 4L+3 in t[2i+1]).
                let t: [__m512; 16] = core::array::from_fn(|i| {
                    let (x, y) = (r[i & !1], r[i | 1]);
                    if i & 1 == 0 {
                        _mm512_unpacklo_ps(x, y)
                    } else {
                        _mm512_unpackhi_ps(x, y)
                    }
                });
                // u[4g + q], lane L: rows 4g..4g+4 of column 4L + q.
                let u: [__m512; 16] = core::array::from_fn(|i| {
                    let (g, q) = (i / 4, i % 4);
                    let x = _mm512_castps_pd(t[4 * g + q / 2]);
                    let y = _mm512_castps_pd(t[4 * g + q / 2 + 2]);
                    _mm512_castpd_ps(if q % 2 == 0 {
                        _mm512_unpacklo_pd(x, y)
                    } else {
                        _mm512_unpackhi_pd(x, y)
                    })
                });
                for q in 0..4 {
                    let lo01 = _mm512_shuffle_f32x4::<0x88>(u[q], u[4 + q]);
                    let hi01 = _mm512_shuffle_f32x4::<0xdd>(u[q], u[4 + q]);
                    let lo23 = _mm512_shuffle_f32x4::<0x88>(u[8 + q], u[12 + q]);
                    let hi23 = _mm512_shuffle_f32x4::<0xdd>(u[8 + q], u[12 + q]);
                    // Column 4L + q, for lanes L = 0, 2 (from lo) and 1, 3 (from hi).
                    _mm512_storeu_ps(dst.add(q * dst_stride), _mm512_shuffle_f32x4::<0x88>(lo01, lo23));
                    _mm512_storeu_ps(
                        dst.add((8 + q) * dst_stride),
                        _mm512_shuffle_f32x4::<0xdd>(lo01, lo23),
                    );
                    _mm512_storeu_ps(
                        dst.add((4 + q) * dst_stride),
                        _mm512_shuffle_f32x4::<0x88>(hi01, hi23),
                    );
                    _mm512_storeu_ps(
                        dst.add((12 + q) * dst_stride),
                        _mm512_shuffle_f32x4::<0xdd>(hi01, hi23),
                    );
                }
            }
        }
    }

    /// AVX2 with FMA: 8 lanes; partial vectors go through a small buffer.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx2;

    impl Simd for Avx2 {
        const W: usize = 8;
        type V = __m256;

        #[inline(always)]
        unsafe fn splat(x: f32) -> __m256 {
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn load_part(p: *const f32, n: usize) -> __m256 {
            let mut t = [0.0f32; 8];
            unsafe {
                core::ptr::copy_nonoverlapping(p, t.as_mut_ptr(), n);
                _mm256_loadu_ps(t.as_ptr())
            }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            unsafe { _mm256_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn store_part(p: *mut f32, v: __m256, n: usize) {
            let mut t = [0.0f32; 8];
            unsafe {
                _mm256_storeu_ps(t.as_mut_ptr(), v);
                core::ptr::copy_nonoverlapping(t.as_ptr(), p, n);
            }
        }
        #[inline(always)]
        unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn mul(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_mul_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_add_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn relu(x: __m256) -> __m256 {
            // As for AVX-512: +0 unless `x > 0`.
            unsafe { _mm256_max_ps(x, _mm256_setzero_ps()) }
        }
        #[inline(always)]
        unsafe fn max_select(v: __m256, m: __m256) -> __m256 {
            // As for AVX-512: `v > m ? v : m`.
            unsafe { _mm256_max_ps(v, m) }
        }
        #[inline(always)]
        unsafe fn any_nan(v: __m256) -> bool {
            unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v)) != 0 }
        }
        #[inline(always)]
        fn prefetch(p: *const f32) {
            // SAFETY: a prefetch only hints the cache; it does not fault on any address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
        }
        #[inline(always)]
        unsafe fn transpose(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
            // SAFETY: by the caller.
            unsafe {
                let r: [__m256; 8] = core::array::from_fn(|i| _mm256_loadu_ps(src.add(i * src_stride)));
                let t: [__m256; 8] = core::array::from_fn(|i| {
                    let (x, y) = (r[i & !1], r[i | 1]);
                    if i & 1 == 0 {
                        _mm256_unpacklo_ps(x, y)
                    } else {
                        _mm256_unpackhi_ps(x, y)
                    }
                });
                // u[4g + q], lane L: rows 4g..4g+4 of column 4L + q.
                let u: [__m256; 8] = core::array::from_fn(|i| {
                    let (g, q) = (i / 4, i % 4);
                    let x = _mm256_castps_pd(t[4 * g + q / 2]);
                    let y = _mm256_castps_pd(t[4 * g + q / 2 + 2]);
                    _mm256_castpd_ps(if q % 2 == 0 {
                        _mm256_unpacklo_pd(x, y)
                    } else {
                        _mm256_unpackhi_pd(x, y)
                    })
                });
                for q in 0..4 {
                    _mm256_storeu_ps(
                        dst.add(q * dst_stride),
                        _mm256_permute2f128_ps::<0x20>(u[q], u[4 + q]),
                    );
                    _mm256_storeu_ps(
                        dst.add((4 + q) * dst_stride),
                        _mm256_permute2f128_ps::<0x31>(u[q], u[4 + q]),
                    );
                }
            }
        }
    }
}

/// Plain arrays of 8 lanes with separate multiply and add: what the compiler makes of them
/// (SSE, NEON, scalar code) is the portable kernel.
#[derive(Clone, Copy)]
pub(super) struct Lanes8;

impl Simd for Lanes8 {
    const W: usize = 8;
    type V = [f32; 8];

    #[inline(always)]
    unsafe fn splat(x: f32) -> [f32; 8] {
        [x; 8]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> [f32; 8] {
        unsafe { p.cast::<[f32; 8]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize) -> [f32; 8] {
        let mut t = [0.0f32; 8];
        unsafe { core::ptr::copy_nonoverlapping(p, t.as_mut_ptr(), n) };
        t
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: [f32; 8]) {
        unsafe { p.cast::<[f32; 8]>().write_unaligned(v) }
    }
    #[inline(always)]
    unsafe fn store_part(p: *mut f32, v: [f32; 8], n: usize) {
        unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), p, n) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: [f32; 8], b: [f32; 8], c: [f32; 8]) -> [f32; 8] {
        core::array::from_fn(|i| a[i] * b[i] + c[i])
    }
    #[inline(always)]
    unsafe fn mul(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        core::array::from_fn(|i| a[i] * b[i])
    }
    #[inline(always)]
    unsafe fn add(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        core::array::from_fn(|i| a[i] + b[i])
    }
    #[inline(always)]
    unsafe fn relu(x: [f32; 8]) -> [f32; 8] {
        x.map(|v| if v > 0.0 { v } else { 0.0 })
    }
    #[inline(always)]
    unsafe fn max_select(v: [f32; 8], m: [f32; 8]) -> [f32; 8] {
        core::array::from_fn(|i| if v[i] > m[i] { v[i] } else { m[i] })
    }
    #[inline(always)]
    unsafe fn any_nan(v: [f32; 8]) -> bool {
        v.iter().any(|x| x.is_nan())
    }
}
