//! Compute kernels on flat, row-major `f32` slices.
//!
//! Layers call these; they hand the heavy lifting to nalgebra (whose dynamic GEMM runs the
//! packed, SIMD `matrixmultiply` kernels on `std` targets).

pub mod elementwise;
pub mod gemm;
