//! The layers, one per file.

mod activation;
mod average_pooling1d;
mod average_pooling2d;
mod batch_normalization;
#[cfg(feature = "alloc")]
mod chain;
mod conv1d;
mod conv2d;
mod conv2d_transpose;
mod cropping2d;
mod dense;
mod depthwise_conv2d;
mod dropout;
mod flatten;
mod global_average_pooling1d;
mod global_average_pooling2d;
mod global_max_pooling1d;
mod global_max_pooling2d;
mod layer_normalization;
mod max_pooling1d;
mod max_pooling2d;
mod nested;
mod pooling;
mod reshape;
mod separable_conv2d;
mod up_sampling2d;
mod zero_padding2d;

pub mod merge;

pub use activation::ActivationLayer;
pub use average_pooling1d::AveragePooling1D;
pub use average_pooling2d::AveragePooling2D;
pub use batch_normalization::BatchNormalization;
#[cfg(feature = "alloc")]
pub use chain::{chain, Chain};
pub use conv1d::{Causal, Conv1D};
pub use conv2d::{Conv2D, Padding, Same, Valid};
pub use conv2d_transpose::Conv2DTranspose;
pub use cropping2d::Cropping2D;
pub use dense::{BiasVec, Dense, NoBias};
pub use depthwise_conv2d::DepthwiseConv2D;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use global_average_pooling1d::GlobalAveragePooling1D;
pub use global_average_pooling2d::GlobalAveragePooling2D;
pub use global_max_pooling1d::GlobalMaxPooling1D;
pub use global_max_pooling2d::GlobalMaxPooling2D;
pub use layer_normalization::LayerNormalization;
pub use max_pooling1d::MaxPooling1D;
pub use max_pooling2d::{MaxPoolWindows, MaxPooling2D};
pub use nested::Nested;
pub use reshape::Reshape;
pub use separable_conv2d::SeparableConv2D;
pub use up_sampling2d::{Bilinear, Interpolation, Nearest, UpSampling2D};
pub use zero_padding2d::ZeroPadding2D;

/// Whether the activation `A` is [`Relu`](crate::activations::Relu), which GEMM applies as it
/// finishes each tile of the output (see [`crate::kernels::gemm::gemm_bias_relu`]).
#[inline(always)]
pub(crate) const fn is_relu<A: crate::activations::Activation>() -> bool {
    A::IS_RELU
}

/// Whether a layer with activation `A` keeps its pre-activation `z` for the backward pass:
/// not for the identity, nor for ReLU, which GEMM applies and whose gradient comes from the
/// output.
pub(crate) const fn keeps_pre_activation<A: crate::activations::Activation>() -> bool {
    !A::IS_LINEAR && !A::IS_RELU
}

/// Turns `dz = dL/dy` into `dL/dz` in place for a layer whose output is `y` and whose cached
/// pre-activation is `z` (read only when [`keeps_pre_activation`]): nothing for the
/// identity, the mask `y > 0` for ReLU (exactly where `z > 0`).
pub(crate) fn activation_grad<A: crate::activations::Activation>(
    z: &[f32],
    y: &[f32],
    dz: &mut [f32],
    row: usize,
) {
    if A::IS_RELU {
        crate::kernels::elementwise::activation_backward::<A>(y, y, dz, row);
    } else if !A::IS_LINEAR {
        crate::kernels::elementwise::activation_backward::<A>(z, y, dz, row);
    }
}
