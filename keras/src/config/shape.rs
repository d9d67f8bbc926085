//! Output shapes (as Keras computes them) and parameter tensors of each layer kind.

use super::{Layer, LayerKind, Padding};
use crate::error::Result;

/// Builds messages about one layer.
pub(super) type Err<'a> = &'a dyn Fn(String) -> crate::ConfigError;

/// `a * b`, or an error that the layer would be too large.
fn mul(a: usize, b: usize, err: Err) -> Result<usize> {
    a.checked_mul(b)
        .ok_or_else(|| err("its output would have too many values".into()))
}

fn numel(shape: &[usize], err: Err) -> Result<usize> {
    shape.iter().try_fold(1, |acc, &d| mul(acc, d, err))
}

/// The spatial dimensions and channels of `input`, which must have rank `rank + 1`.
fn spatial<'s>(input: &'s [usize], rank: usize, err: Err) -> Result<(&'s [usize], usize)> {
    match input.split_last() {
        Some((&c, space)) if input.len() == rank + 1 => Ok((space, c)),
        _ => {
            let needs = if rank == 2 {
                "a rank-3 input (height, width, channels)"
            } else {
                "a rank-2 input (steps, channels)"
            };
            Err(err(format!("needs {needs}, but receives shape {input:?}")))
        }
    }
}

/// The output length of a convolution or pooling window along one axis.
fn window(n: usize, k: usize, s: usize, d: usize, padding: Padding, err: Err) -> Result<usize> {
    let span = d
        .checked_mul(k - 1)
        .and_then(|v| v.checked_add(1))
        .ok_or_else(|| err("its kernel is too large".into()))?;
    match padding {
        Padding::Valid if n < span => Err(err(format!(
            "its window of {span} is larger than the input's {n} along an axis (padding \"valid\")"
        ))),
        Padding::Valid => Ok((n - span) / s + 1),
        Padding::Same | Padding::Causal => Ok(n.div_ceil(s)),
    }
}

/// The per-sample output shape of `kind` for `input`.
pub(super) fn output(kind: &LayerKind, input: &[usize], err: Err) -> Result<Vec<usize>> {
    let same = || Ok(input.to_vec());
    match kind {
        LayerKind::Dense { units, .. } => match input {
            [_] => Ok(vec![*units]),
            _ => Err(err(format!(
                "kerust's Dense needs a rank-1 input, but receives shape {input:?}; add a Flatten layer before it"
            ))),
        },
        LayerKind::Activation { .. }
        | LayerKind::ReLU
        | LayerKind::Softmax
        | LayerKind::LeakyReLU { .. }
        | LayerKind::ELU { .. }
        | LayerKind::Dropout { .. } => same(),
        LayerKind::BatchNormalization { .. } | LayerKind::LayerNormalization { .. } => same(),
        LayerKind::Flatten => Ok(vec![numel(input, err)?]),
        LayerKind::Reshape { target_shape } => {
            let n = numel(input, err)?;
            let known = target_shape
                .iter()
                .filter(|&&d| d > 0)
                .try_fold(1usize, |acc, &d| mul(acc, d as usize, err))?;
            let inferred = target_shape.contains(&-1);
            let fits = if inferred {
                known > 0 && n % known == 0
            } else {
                known == n
            };
            if !fits {
                return Err(err(format!(
                    "cannot reshape {input:?} ({n} values) into {target_shape:?}"
                )));
            }
            Ok(target_shape
                .iter()
                .map(|&d| usize::try_from(d).unwrap_or(n / known.max(1)))
                .collect())
        }
        LayerKind::Conv {
            filters,
            kernel_size,
            strides,
            padding,
            dilation_rate,
            ..
        } => {
            let (space, _) = spatial(input, kernel_size.len(), err)?;
            let mut out = Vec::with_capacity(space.len() + 1);
            for (axis, &n) in space.iter().enumerate() {
                out.push(window(n, kernel_size[axis], strides[axis], dilation_rate[axis], *padding, err)?);
            }
            out.push(*filters);
            Ok(out)
        }
        LayerKind::DepthwiseConv2D {
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            dilation_rate,
            ..
        } => {
            let (space, c) = spatial(input, 2, err)?;
            let oh = window(space[0], kernel_size[0], strides[0], dilation_rate[0], *padding, err)?;
            let ow = window(space[1], kernel_size[1], strides[1], dilation_rate[1], *padding, err)?;
            Ok(vec![oh, ow, mul(c, *depth_multiplier, err)?])
        }
        LayerKind::SeparableConv2D {
            filters,
            kernel_size,
            strides,
            padding,
            dilation_rate,
            ..
        } => {
            let (space, _) = spatial(input, 2, err)?;
            let oh = window(space[0], kernel_size[0], strides[0], dilation_rate[0], *padding, err)?;
            let ow = window(space[1], kernel_size[1], strides[1], dilation_rate[1], *padding, err)?;
            Ok(vec![oh, ow, *filters])
        }
        LayerKind::Conv2DTranspose {
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            dilation_rate,
            ..
        } => {
            let (space, _) = spatial(input, 2, err)?;
            let mut out = vec![0; 3];
            for axis in 0..2 {
                let (n, s) = (space[axis], strides[axis]);
                // The dilated kernel.
                let k = mul(dilation_rate[axis], kernel_size[axis] - 1, err)? + 1;
                let base = mul(n - 1, s, err)?;
                let size = match (padding, output_padding) {
                    (Padding::Same, None) => Some(mul(n, s, err)?),
                    (Padding::Same, Some(op)) => base.checked_add(k % 2 + op[axis]),
                    (_, op) => {
                        let op = op.map_or(k.max(s) - k, |op| op[axis]);
                        base.checked_add(k).and_then(|v| v.checked_add(op))
                    }
                };
                out[axis] = match size {
                    Some(0) => return Err(err("its output would be empty".into())),
                    Some(v) => v,
                    None => return Err(err("its output would have too many values".into())),
                };
            }
            out[2] = *filters;
            Ok(out)
        }
        LayerKind::Pooling {
            pool_size,
            strides,
            padding,
            ..
        } => {
            let (space, c) = spatial(input, pool_size.len(), err)?;
            let mut out = Vec::with_capacity(space.len() + 1);
            for (axis, &n) in space.iter().enumerate() {
                out.push(window(n, pool_size[axis], strides[axis], 1, *padding, err)?);
            }
            out.push(c);
            Ok(out)
        }
        LayerKind::GlobalPooling { rank, keepdims, .. } => {
            let (_, c) = spatial(input, *rank, err)?;
            let mut out = if *keepdims { vec![1; *rank] } else { Vec::new() };
            out.push(c);
            Ok(out)
        }
        LayerKind::ZeroPadding2D { padding } => {
            let (space, c) = spatial(input, 2, err)?;
            let grow = |n: usize, [a, b]: [usize; 2]| {
                n.checked_add(a)
                    .and_then(|v| v.checked_add(b))
                    .ok_or_else(|| err("its output would have too many values".into()))
            };
            Ok(vec![grow(space[0], padding[0])?, grow(space[1], padding[1])?, c])
        }
        LayerKind::Cropping2D { cropping } => {
            let (space, c) = spatial(input, 2, err)?;
            let shrink = |n: usize, [a, b]: [usize; 2]| match a.checked_add(b) {
                Some(cut) if cut < n => Ok(n - cut),
                _ => Err(err(format!(
                    "cropping {a} + {b} from {n} leaves nothing (input shape {input:?})"
                ))),
            };
            Ok(vec![shrink(space[0], cropping[0])?, shrink(space[1], cropping[1])?, c])
        }
        LayerKind::UpSampling2D { size, .. } => {
            let (space, c) = spatial(input, 2, err)?;
            Ok(vec![mul(space[0], size[0], err)?, mul(space[1], size[1], err)?, c])
        }
    }
}

/// The parameter tensors of `layer`, named as kerust's layers name them.
pub(super) fn params(layer: &Layer) -> Vec<(&'static str, Vec<usize>)> {
    let input = &layer.input_shape;
    let c = input.last().copied().unwrap_or(0);
    let bias = |use_bias: bool, n: usize| use_bias.then(|| ("bias", vec![n]));
    let mut out: Vec<Option<(&'static str, Vec<usize>)>> = Vec::new();
    match &layer.kind {
        LayerKind::Dense { units, use_bias, .. } => {
            out.push(Some(("kernel", vec![c, *units])));
            out.push(bias(*use_bias, *units));
        }
        LayerKind::Conv {
            filters,
            kernel_size,
            use_bias,
            ..
        } => {
            let mut shape = kernel_size.clone();
            shape.extend([c, *filters]);
            out.push(Some(("kernel", shape)));
            out.push(bias(*use_bias, *filters));
        }
        LayerKind::DepthwiseConv2D {
            kernel_size: [kh, kw],
            depth_multiplier: m,
            use_bias,
            ..
        } => {
            out.push(Some(("kernel", vec![*kh, *kw, c, *m])));
            out.push(bias(*use_bias, c.saturating_mul(*m)));
        }
        LayerKind::SeparableConv2D {
            filters,
            kernel_size: [kh, kw],
            depth_multiplier: m,
            use_bias,
            ..
        } => {
            out.push(Some(("depthwise_kernel", vec![*kh, *kw, c, *m])));
            out.push(Some((
                "pointwise_kernel",
                vec![1, 1, c.saturating_mul(*m), *filters],
            )));
            out.push(bias(*use_bias, *filters));
        }
        LayerKind::Conv2DTranspose {
            filters,
            kernel_size: [kh, kw],
            use_bias,
            ..
        } => {
            out.push(Some(("kernel", vec![*kh, *kw, *filters, c])));
            out.push(bias(*use_bias, *filters));
        }
        LayerKind::BatchNormalization { center, scale, .. } => {
            out.push(scale.then(|| ("gamma", vec![c])));
            out.push(center.then(|| ("beta", vec![c])));
            out.push(Some(("moving_mean", vec![c])));
            out.push(Some(("moving_variance", vec![c])));
        }
        LayerKind::LayerNormalization { center, scale, .. } => {
            out.push(scale.then(|| ("gamma", vec![c])));
            out.push(center.then(|| ("beta", vec![c])));
        }
        _ => {}
    }
    out.into_iter().flatten().collect()
}
