//! `Concatenate(axis)`: the inputs laid side by side along one axis.
//!
//! The kernel sees the axis through block sizes. With `outer` = `batch` × the product of
//! the per-sample dims before the axis, and `chunks[i]` = input `i`'s size on the axis × the
//! product of the dims after it, input `i` is `outer` contiguous blocks of `chunks[i]`
//! values and `y` is, for each `o` in `0..outer`, block `o` of every input in turn.
//!
//! # Shapes
//! `xs[i]`: `outer * chunks[i]` values; `y`: `outer * chunks.iter().sum()` values.
//!
//! ```
//! use kerust::layers::merge::concatenate;
//! // Per-sample [2, 2] and [2, 1] on the last axis (chunks 2 and 1), batch 1.
//! let (a, b) = ([1.0, 2.0, 3.0, 4.0], [5.0, 6.0]);
//! let mut y = [0.0; 6];
//! concatenate::forward(&[&a, &b], &[2, 1], &mut y);
//! assert_eq!(y, [1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
//! let mut db = [0.0; 2];
//! concatenate::backward(&y, &[2, 1], 1, &mut db);
//! assert_eq!(db, [5.0, 6.0]);
//! ```

/// Writes the concatenation of `xs` (blocks of `chunks[i]` values) to `y`.
pub fn forward(xs: &[&[f32]], chunks: &[usize], y: &mut [f32]) {
    debug_assert!(
        !xs.is_empty() && xs.len() == chunks.len(),
        "one chunk size per input"
    );
    let width: usize = chunks.iter().sum();
    if width == 0 {
        return;
    }
    let outer = y.len() / width;
    debug_assert!(y.len() == outer * width, "y must hold whole rows of {width}");
    debug_assert!(
        xs.iter().zip(chunks).all(|(x, &c)| x.len() == outer * c),
        "input i must hold outer * chunks[i] values"
    );
    for (o, row) in y.chunks_exact_mut(width).enumerate() {
        let mut at = 0;
        for (x, &c) in xs.iter().zip(chunks) {
            row[at..at + c].copy_from_slice(&x[o * c..(o + 1) * c]);
            at += c;
        }
    }
}

/// Writes dL/d`xs[i]` to `dx`: input `i`'s blocks of `dy`.
pub fn backward(dy: &[f32], chunks: &[usize], i: usize, dx: &mut [f32]) {
    debug_assert!(i < chunks.len(), "input index {i} out of range");
    let width: usize = chunks.iter().sum();
    let c = chunks[i];
    if c == 0 {
        return;
    }
    let offset: usize = chunks[..i].iter().sum();
    debug_assert!(
        dy.len() / width * c == dx.len() && dy.len().is_multiple_of(width),
        "dx must hold outer * chunks[i] values"
    );
    for (d, row) in dx.chunks_exact_mut(c).zip(dy.chunks_exact(width)) {
        d.copy_from_slice(&row[offset..offset + c]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_axis_of_rank_2_samples_batch_2() {
        // Per-sample [1, 2] and [2, 2] on axis 0: outer = batch, chunks 2 and 4.
        let a = [1.0, 2.0, 10.0, 20.0];
        let b = [3.0, 4.0, 5.0, 6.0, 30.0, 40.0, 50.0, 60.0];
        let mut y = [0.0; 12];
        forward(&[&a, &b], &[2, 4], &mut y);
        assert_eq!(
            y,
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
        );
        let mut db = [0.0; 8];
        backward(&y, &[2, 4], 1, &mut db);
        assert_eq!(db, b);
        let mut da = [0.0; 4];
        backward(&y, &[2, 4], 0, &mut da);
        assert_eq!(da, a);
    }
}
