//! Compute kernels on flat, row-major `f32` slices.
//!
//! Layers call these. Matrix products run on kerust's own packed, cache-blocked GEMM
//! ([`gemm`]): AVX-512 or AVX2 micro-kernels picked at run time, a portable one elsewhere,
//! operands read through strides so transposes are never materialised, and a per-thread
//! packing buffer, so a training step allocates nothing.

pub mod elementwise;
pub mod gemm;
pub mod im2col;
#[cfg(feature = "parallel")]
pub mod pair;
