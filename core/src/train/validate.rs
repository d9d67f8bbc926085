//! Checks that data fits a model and a loss before any computation touches it.

use alloc::format;

use super::objective::Head;
use crate::data::{names, Dataset, Target};
use crate::losses::TargetKind;
use crate::{Error, Model, Result, Shape};

/// The output's last axis: the width of one loss row.
pub(crate) fn out_width<M: Model>() -> usize {
    let rank = <M::Output as Shape>::RANK;
    if rank == 0 {
        1
    } else {
        <M::Output as Shape>::DIMS[rank - 1]
    }
}

/// Validates samples against `M::Input` (length and finiteness).
pub(crate) fn check_inputs<M: Model>(x: &[f32], sample_shape: Option<&[usize]>) -> Result<usize> {
    let n = check_input_lengths::<M>(x, sample_shape)?;
    match first_non_finite(x) {
        Some(i) => Err(non_finite_input::<M>(x, i)),
        None => Ok(n),
    }
}

/// The error for the non-finite input value `x[i]`.
pub(crate) fn non_finite_input<M: Model>(x: &[f32], i: usize) -> Error {
    let per = <M::Input as Shape>::LEN;
    Error::data(format!(
        "input value {} of sample {} is {} (inputs must be finite)",
        i % per,
        i / per,
        x[i]
    ))
}

/// Validates the length of samples against `M::Input` (not their values); returns how many
/// samples `x` holds.
pub(crate) fn check_input_lengths<M: Model>(x: &[f32], sample_shape: Option<&[usize]>) -> Result<usize> {
    let per = <M::Input as Shape>::LEN;
    let dims = <M::Input as Shape>::dims();
    if let Some(shape) = sample_shape {
        let n: usize = shape.iter().product();
        if n != per {
            return Err(Error::data(format!(
                "samples have shape {shape:?} ({n} values) but model `{}` takes inputs of shape {dims:?} ({per} values)",
                M::NAME
            )));
        }
    }
    if x.is_empty() {
        return Err(Error::data("the dataset is empty"));
    }
    if !x.len().is_multiple_of(per) {
        return Err(Error::data(format!(
            "{} input values are not a whole number of samples of shape {dims:?} ({per} values each)",
            x.len()
        )));
    }
    Ok(x.len() / per)
}

/// The index of the first NaN or infinity in `x`. Scans blocks branch-free (vectorised; in
/// parallel with the `parallel` feature for large inputs), then the first failing block
/// element by element: validating a test set costs a fraction of a pass over it.
fn first_non_finite(x: &[f32]) -> Option<usize> {
    #[cfg(feature = "parallel")]
    if x.len() >= 16 * BLOCK {
        use rayon::prelude::*;
        let start = x.par_chunks(BLOCK).position_first(any_non_finite)? * BLOCK;
        return first_in_block(x, start);
    }
    first_non_finite_here(x)
}

/// The index of the first NaN or infinity at or after `start`, where block `start` has one.
fn first_in_block(x: &[f32], start: usize) -> Option<usize> {
    x[start..].iter().position(|v| !v.is_finite()).map(|i| start + i)
}

/// Floats per block of [`first_non_finite`].
const BLOCK: usize = 1 << 12;

/// Whether the block `x` holds a NaN or an infinity: a branch-free count of all-ones
/// exponents (compiled for AVX-512 too, picked at run time).
fn any_non_finite(x: &[f32]) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { any_non_finite_avx512(x) };
    }
    any_non_finite_body(x)
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn any_non_finite_avx512(x: &[f32]) -> bool {
    any_non_finite_body(x)
}

#[inline(always)]
fn any_non_finite_body(x: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    x.iter()
        .map(|v| u32::from(v.to_bits() & EXPONENT == EXPONENT))
        .sum::<u32>()
        != 0
}

/// The index of the first NaN or infinity in `x`, scanned block by block on this thread
/// (for a slice a caller is about to compute with: it is then in cache for the
/// computation).
pub(crate) fn first_non_finite_here(x: &[f32]) -> Option<usize> {
    let start = x.chunks(BLOCK).position(any_non_finite)? * BLOCK;
    first_in_block(x, start)
}

/// Validates a dataset for model `M` trained on `heads` (one per output): the inputs,
/// then each output's targets against its loss.
pub(crate) fn check_dataset<M: Model>(data: &Dataset, heads: &[Head]) -> Result<usize> {
    let n = check_inputs::<M>(&data.x, Some(&data.sample_shape))?;
    let several = heads.len() > 1;
    match &data.y {
        Target::Multi(parts) if parts.len() != heads.len() => {
            return Err(Error::data(format!(
                "model `{}` has {} output{} ({}), but the dataset has {} targets",
                M::NAME,
                heads.len(),
                if several { "s" } else { "" },
                names(M::OUTPUTS),
                parts.len()
            )));
        }
        Target::Multi(_) => {}
        _ if several => {
            return Err(Error::data(format!(
                "model `{}` has {} outputs ({}): give one target per output with Target::Multi or Target::by_name",
                M::NAME,
                heads.len(),
                names(M::OUTPUTS)
            )));
        }
        _ => {}
    }
    for (k, head) in heads.iter().enumerate() {
        check_targets::<M>(data.y.part(k), n, head).map_err(|e| match e {
            Error::Data(reason) if several => Error::data(format!("output `{}`: {reason}", head.name)),
            other => other,
        })?;
    }
    Ok(n)
}

/// Validates the targets of one output for `n` samples.
fn check_targets<M: Model>(y: &Target, n: usize, head: &Head) -> Result<()> {
    let (out_len, width) = (head.len, head.width);
    match (y, head.kind) {
        (Target::Classes(labels), TargetKind::Sparse) => {
            if out_len != width {
                return Err(Error::data(format!(
                    "class labels need a rank-1 output, but model `{}` outputs shape {:?}",
                    M::NAME,
                    head.shape
                )));
            }
            if labels.len() != n {
                return Err(Error::data(format!("{n} samples but {} labels", labels.len())));
            }
            if let Some(i) = labels.iter().position(|&l| l as usize >= width) {
                return Err(Error::data(format!(
                    "label {} of sample {i} is out of range: the model has {width} outputs, so labels must be in 0..{width}",
                    labels[i]
                )));
            }
        }
        (
            Target::Values {
                data: values,
                width: w,
            },
            TargetKind::Dense,
        ) => {
            if *w != out_len {
                return Err(Error::data(format!(
                    "targets have {w} values per sample but model `{}` outputs {out_len}",
                    M::NAME
                )));
            }
            if values.len() != n * w {
                return Err(Error::data(format!(
                    "{n} samples need {} target values, found {}",
                    n * w,
                    values.len()
                )));
            }
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::data(format!(
                    "target value {} of sample {} is {} (targets must be finite)",
                    i % w,
                    i / w,
                    values[i]
                )));
            }
        }
        (Target::Classes(_), TargetKind::Dense) => {
            return Err(Error::data(
                "the loss takes one target value per output value, but the dataset has class labels; use a sparse loss such as SparseCategoricalCrossentropy, or one-hot targets",
            ));
        }
        (Target::Values { .. }, TargetKind::Sparse) => {
            return Err(Error::data(
                "the loss takes class labels (Target::Classes), but the dataset has value targets; use CategoricalCrossentropy for one-hot targets",
            ));
        }
        (Target::Multi(_), _) => {
            return Err(Error::data("a Target::Multi cannot be the target of one output"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::first_non_finite;

    #[test]
    fn finds_the_first_non_finite_value_anywhere() {
        // Large enough for the parallel scan; bad values at block edges and in the tail.
        let n = (1 << 17) + 5;
        let mut x = alloc::vec![0.5f32; n];
        assert_eq!(first_non_finite(&x), None);
        for at in [0, 4095, 4096, 70_000, n - 1] {
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                x[at] = bad;
                assert_eq!(first_non_finite(&x), Some(at), "{bad} at {at}");
                // A later bad value does not hide the first.
                if at + 1 < n {
                    x[n - 1] = f32::NAN;
                    assert_eq!(first_non_finite(&x), Some(at), "{bad} at {at}, NaN after");
                }
                x.fill(0.5);
            }
        }
        // The largest finite values and subnormals are finite.
        assert_eq!(first_non_finite(&[f32::MAX, f32::MIN, 1e-45, -0.0]), None);
    }
}
