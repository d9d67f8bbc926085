//! Keras's model methods for every declared model: `compile`, `predict`, `summary`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::metrics::argmax;
use super::validate::{check_input_lengths, check_inputs, first_non_finite_here, non_finite_input};
use super::{summary_string, Metric, Objective, Trainer};
use crate::optim::Optimizer;
use crate::{Error, Model, Result, Shape};

/// Floats of inference scratch a slice of a `predict` batch may use: 1 MiB, so that
/// the slice's buffers stay in a core's L2 cache.
const SLICE_SCRATCH: usize = 1 << 18;
/// Fewest rows per slice of a `predict` batch (enough rows for GEMM to work well).
const MIN_SLICE_ROWS: usize = 8;

/// Keras's model methods, for every model declared with `model!` (in the prelude).
pub trait ModelExt: Model + Sized {
    /// Attaches an optimizer, a loss and metrics (Keras's `model.compile`).
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<4> { out: Dense(3) } }
    /// let trainer = Net::new(0).compile(Sgd::default(), MeanSquaredError::default(), [Metric::MeanAbsoluteError]);
    /// assert_eq!(trainer.model().params().len(), Net::PARAM_COUNT);
    /// ```
    ///
    /// For a model with several outputs, `loss` is one [`Loss`](crate::losses::Loss)
    /// applied to every output or [`PerOutput`](super::PerOutput) losses (with loss
    /// weights and metrics per output), and `metrics` is empty.
    fn compile<O: Optimizer, L: Objective>(
        self: Box<Self>,
        optimizer: O,
        loss: L,
        metrics: impl IntoIterator<Item = Metric>,
    ) -> Trainer<Self, O, L> {
        Trainer::new(self, optimizer, loss, metrics)
    }

    /// Runs inference on `x` (samples flattened one after another) in batches of
    /// `batch_size`, in parallel with the `parallel` feature. Returns the outputs, flattened
    /// the same way.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<4> { out: Dense(3, activation = softmax) } }
    /// let y = Net::new(0).predict(&[0.5; 8], 32)?;
    /// assert_eq!(y.len(), 6);
    /// assert!((y[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
    /// assert!(Net::new(0).predict(&[0.5; 7], 32).is_err()); // not a whole sample
    /// # Ok::<(), kerust::Error>(())
    /// ```
    fn predict(&self, x: &[f32], batch_size: usize) -> Result<Vec<f32>> {
        if batch_size == 0 {
            return Err(Error::invalid_argument("batch_size", "must be at least 1"));
        }
        // Values are checked slice by slice, each just before it is computed with (then
        // already in cache): a non-finite one anywhere still fails the whole call.
        let n = check_input_lengths::<Self>(x, None)?;
        let (in_len, out_len) = (<Self::Input as Shape>::LEN, <Self::Output as Shape>::LEN);
        let mut y = alloc::vec![0.0; n * out_len];
        // The first non-finite input value's index (`usize::MAX`: none found).
        let bad = core::sync::atomic::AtomicUsize::new(usize::MAX);
        // Each batch runs in slices of rows whose intermediate buffers stay in cache (a
        // convnet's patches are tens of KB per sample); rows are computed independently of
        // each other, and no slice has a single row (unless the batch has), so the outputs
        // have the same bits as one call over the whole batch.
        let slice = (SLICE_SCRATCH / Self::SCRATCH.max(1))
            .max(MIN_SLICE_ROWS)
            .min(batch_size);
        // Batch `k` of `x` (`xs`) into `ys`.
        let run = |k: usize, xs: &[f32], ys: &mut [f32], scratch: &mut Vec<f32>| {
            use core::sync::atomic::Ordering::Relaxed;
            let b = xs.len() / in_len;
            let first = k * batch_size * in_len;
            let rows = slice.min(b);
            if scratch.len() < (rows + 1) * Self::SCRATCH {
                scratch.resize((rows + 1) * Self::SCRATCH, 0.0);
            }
            let mut at = 0;
            while at < b {
                // A last slice of one row joins the one before.
                let r = if b - at <= rows + 1 { b - at } else { rows };
                let xs = &xs[at * in_len..(at + r) * in_len];
                if let Some(i) = first_non_finite_here(xs) {
                    bad.fetch_min(first + at * in_len + i, Relaxed);
                }
                if bad.load(Relaxed) != usize::MAX {
                    return;
                }
                self.forward_batch(xs, &mut ys[at * out_len..(at + r) * out_len], r, scratch);
                at += r;
            }
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            // Whole runs of batches per job, so that each thread allocates (and the kernel
            // zero-fills) its scratch once per call rather than once per rayon split: for a
            // convnet that is `batch_size * SCRATCH` floats, tens of MB, per split.
            let per_thread = n.div_ceil(batch_size).div_ceil(rayon::current_num_threads());
            y.par_chunks_mut(batch_size * out_len)
                .zip(x.par_chunks(batch_size * in_len))
                .enumerate()
                .with_min_len(per_thread.max(1))
                .for_each_init(Vec::new, |scratch, (k, (ys, xs))| run(k, xs, ys, scratch));
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut scratch = Vec::new();
            for (k, (ys, xs)) in y
                .chunks_mut(batch_size * out_len)
                .zip(x.chunks(batch_size * in_len))
                .enumerate()
            {
                run(k, xs, ys, &mut scratch);
            }
        }
        match bad.into_inner() {
            usize::MAX => Ok(y),
            // Slices stop once one fails: the whole scan names the first bad value.
            i => Err(match check_inputs::<Self>(x, None) {
                Err(e) => e,
                Ok(_) => non_finite_input::<Self>(x, i),
            }),
        }
    }

    /// Runs inference on a model with several inputs and outputs (Keras's
    /// `model.predict([x_img, x_tab])`): `inputs` holds one array per input, in the order
    /// of [`Model::INPUTS`]; returns one array per output, in the order of
    /// [`Model::OUTPUTS`], each its samples one after another. Fails as
    /// [`join_inputs`](crate::data::join_inputs) and `predict` do.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<4> { out: Dense(3) } }
    /// let net = Net::new(0);
    /// let outputs = net.predict_outputs(&[&[0.5; 8]], 32)?;
    /// assert_eq!(outputs, [net.predict(&[0.5; 8], 32)?]);
    /// # Ok::<(), kerust::Error>(())
    /// ```
    fn predict_outputs(&self, inputs: &[&[f32]], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        let x = crate::data::join_inputs::<Self>(inputs)?;
        crate::data::split_outputs::<Self>(&self.predict(&x, batch_size)?)
    }

    /// The arg-max class of each sample's output (for classifiers with a rank-1 output).
    fn predict_classes(&self, x: &[f32], batch_size: usize) -> Result<Vec<u32>> {
        let y = self.predict(x, batch_size)?;
        Ok(y.chunks(<Self::Output as Shape>::LEN)
            .map(|r| argmax(r) as u32)
            .collect())
    }

    /// Prints the Keras-style summary table (layer, output shape, parameters).
    fn summary(&self) {
        std::print!("{}", summary_string::<Self>());
    }
}

impl<M: Model> ModelExt for M {}
