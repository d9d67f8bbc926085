//! Compute kernels on flat, row-major `f32` slices.
//!
//! Layers call these. Matrix products run on `matrixmultiply`'s packed, blocked SIMD kernels
//! (the same kernels nalgebra's dynamic GEMM dispatches to), with arbitrary strides so
//! transposed operands are never copied.

pub mod elementwise;
pub mod gemm;
