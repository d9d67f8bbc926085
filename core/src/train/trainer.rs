//! [`Trainer`]: a compiled model (model + optimizer + loss + metrics), as Keras's
//! `model.compile(...)` returns.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::ops::Range;

use super::callback::Context;
use super::objective::{setup, CompiledMetric, Head, Objective};
use super::progress::Progress;
use super::shards::{for_each_shard, shard_count, shard_rows, split_grads, Shard, MAX_SHARDS};
use super::validate::{check_dataset, out_width};
use super::{Control, EvaluateOptions, FitOptions, History, Logs, Metric};
use crate::data::{Dataset, Target};
use crate::losses::{Loss, Targets};
use crate::optim::Optimizer;
use crate::{Error, Model, Result, Rng, Shape};
use alloc::string::String;

/// A model compiled with an optimizer, a loss (one [`Loss`], or
/// [`PerOutput`](super::PerOutput) losses for a model with several outputs) and metrics:
/// `fit`, `evaluate`, and access to the trained model.
pub struct Trainer<M: Model, O: Optimizer, L: Objective> {
    model: Box<M>,
    optimizer: O,
    loss: L,
    metrics: Vec<Metric>,
    /// The outputs and the metrics as compiled, or what is wrong with the compilation
    /// (reported by `fit` and `evaluate`).
    heads: Vec<Head>,
    compiled: Vec<CompiledMetric>,
    setup_error: Option<(&'static str, String)>,
    shards: Vec<Shard<M>>,
    /// Reused batch buffers: each output's class labels or target values, per-sample
    /// weights (inputs are gathered per shard).
    targets: Vec<BatchTargets>,
    sample_weights: Vec<f32>,
    /// Non-trainable parameters saved around the optimizer step.
    frozen: Vec<f32>,
    /// Where each parameter tensor lies in the flat parameters.
    tensors: Vec<Range<usize>>,
    steps_done: u64,
    /// The seed of the last `fit` (checkpoints record it).
    seed: u64,
}

/// One output's targets of a batch.
#[derive(Default)]
struct BatchTargets {
    sparse: bool,
    classes: Vec<u32>,
    values: Vec<f32>,
}

/// Which pass a batch runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Train { seed: u64 },
    Eval,
}

impl<M: Model, O: Optimizer, L: Objective> Trainer<M, O, L> {
    /// Compiles `model` (Keras's `model.compile(optimizer, loss, metrics)`). For a model
    /// with several outputs, `loss` is one [`Loss`] for all of them or
    /// [`PerOutput`](super::PerOutput) losses, and `metrics` must be empty (metrics are
    /// then given per output); what does not fit the model is reported by `fit` and
    /// `evaluate`.
    pub fn new(model: Box<M>, optimizer: O, loss: L, metrics: impl IntoIterator<Item = Metric>) -> Self {
        let metrics: Vec<Metric> = metrics.into_iter().collect();
        let (heads, compiled, setup_error) = match setup::<M, L>(&loss, &metrics) {
            Ok((heads, compiled)) => (heads, compiled, None),
            Err(e) => (Vec::new(), Vec::new(), Some(e)),
        };
        let mut tensors = Vec::new();
        let mut offset = 0;
        model.visit_params(&mut |_, _, _, values| {
            tensors.push(offset..offset + values.len());
            offset += values.len();
        });
        Trainer {
            model,
            optimizer,
            loss,
            metrics,
            targets: heads.iter().map(|_| BatchTargets::default()).collect(),
            heads,
            compiled,
            setup_error,
            shards: Vec::new(),
            sample_weights: Vec::new(),
            frozen: Vec::new(),
            tensors,
            steps_done: 0,
            seed: 0,
        }
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutable.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Gives the model back.
    pub fn into_model(self) -> Box<M> {
        self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The optimizer, mutable (e.g. to change the learning rate).
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }

    /// The loss.
    pub fn loss(&self) -> &L {
        &self.loss
    }

    /// The metrics, as compiled.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The names `fit` and `evaluate` log, in the order they log them (before the
    /// `val_` entries); fails as `fit` would when the loss or metrics do not fit the
    /// model.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<4> { out: Dense(3) } }
    /// let trainer = Net::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), [Metric::MeanAbsoluteError]);
    /// assert_eq!(trainer.log_names()?, ["mean_absolute_error", "loss"]);
    /// # Ok::<(), kerust::Error>(())
    /// ```
    pub fn log_names(&self) -> Result<Vec<String>> {
        self.check_setup()?;
        Ok(self.epoch_logs().iter().map(|(n, _)| n.into()).collect())
    }

    /// The error of a compilation that does not fit the model.
    fn check_setup(&self) -> Result<()> {
        match &self.setup_error {
            Some((name, reason)) => Err(Error::invalid_argument(name, reason.clone())),
            None => Ok(()),
        }
    }

    /// Where each parameter tensor lies in the flat parameters, in storage order.
    pub fn tensor_ranges(&self) -> &[Range<usize>] {
        &self.tensors
    }

    /// The training steps taken so far (by `fit` and `train_on_batch`). The dropout masks
    /// of the next step derive from it, so checkpoints save it.
    pub fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// The `FitOptions::seed` of the last `fit` (or of the restored checkpoint; 0 before
    /// either).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Restores the step count and seed of a checkpoint.
    pub(crate) fn restore_progress(&mut self, steps_done: u64, seed: u64) {
        self.steps_done = steps_done;
        self.seed = seed;
    }

    fn context(&mut self) -> Context<'_> {
        let (steps_done, seed) = (self.steps_done, self.seed);
        Context::new(self.model.flat_mut(), &mut self.optimizer).with_training_state(steps_done, seed)
    }

    /// Trains the model (Keras's `model.fit`): epochs `initial_epoch..epochs` over `data`
    /// in batches of `batch_size`, reporting the loss and metrics of each epoch, with
    /// validation data when asked. Fails, before any training, when the data or an option
    /// does not fit the model.
    ///
    /// With the `parallel` feature, a call from outside any rayon pool runs the whole loop,
    /// callbacks and progress output included, on a thread of rayon's global pool while the
    /// caller waits: the pool's threads then hand each step's work to one another
    /// directly, instead of waking the caller and being woken by it twice a step (a call
    /// from inside a pool, e.g. under `ThreadPool::install`, runs on the calling thread).
    /// Hooks therefore run on a pool thread: they do not see the caller's thread-locals,
    /// and should not block on work that needs the pool (tasks given to `rayon::spawn`,
    /// another `fit`), nor should the caller hold `std::io::stdout().lock()` across a
    /// `fit` that prints.
    pub fn fit(&mut self, data: &Dataset, opts: FitOptions<'_>) -> Result<History> {
        #[cfg(feature = "parallel")]
        if rayon::current_thread_index().is_none() {
            return rayon::scope(|_| self.fit_here(data, opts));
        }
        self.fit_here(data, opts)
    }

    /// [`Trainer::fit`] on the calling thread.
    fn fit_here(&mut self, data: &Dataset, mut opts: FitOptions<'_>) -> Result<History> {
        if opts.batch_size == 0 {
            return Err(Error::invalid_argument("batch_size", "must be at least 1"));
        }
        if opts.validation_freq == 0 {
            return Err(Error::invalid_argument("validation_freq", "must be at least 1"));
        }
        if opts.steps_per_epoch == Some(0) {
            return Err(Error::invalid_argument("steps_per_epoch", "must be at least 1"));
        }
        self.check_setup()?;
        check_dataset::<M>(data, &self.heads)?;
        let _flush = super::denormals::FlushDenormals::on(opts.flush_denormals);
        let sample_weight = check_weights(opts.sample_weight, data.len(), "sample_weight")?;
        if opts.class_weight.is_some() && self.heads.len() > 1 {
            return Err(Error::invalid_argument(
                "class_weight",
                format!(
                    "is supported only for a model with one output (as in Keras); model `{}` has {}",
                    M::NAME,
                    self.heads.len()
                ),
            ));
        }
        if let Some(cw) = opts.class_weight {
            let width = out_width::<M>().max(2);
            if cw.len() != width {
                return Err(Error::invalid_argument(
                    "class_weight",
                    format!("needs one weight per class ({width}), got {}", cw.len()),
                ));
            }
            check_weights(Some(cw), width, "class_weight")?;
        }

        let split;
        let (train, val, val_weights): (&Dataset, Option<&Dataset>, Option<&[f32]>) = match opts
            .validation_data
        {
            Some(v) => {
                check_dataset::<M>(v, &self.heads).map_err(|e| match e {
                    Error::Data(reason) => Error::data(format!("validation data: {reason}")),
                    other => other,
                })?;
                (data, Some(v), None)
            }
            None if opts.validation_split > 0.0 => {
                split = data.split_last(opts.validation_split)?;
                if split.0.is_empty() || split.1.is_empty() {
                    return Err(Error::invalid_argument(
                        "validation_split",
                        format!(
                            "{} of {} samples leaves {} for training and {} for validation; both need at least one",
                            opts.validation_split,
                            data.len(),
                            split.0.len(),
                            split.1.len()
                        ),
                    ));
                }
                let n_train = split.0.len();
                (&split.0, Some(&split.1), sample_weight.map(|w| &w[n_train..]))
            }
            None => {
                if !(0.0..1.0).contains(&opts.validation_split) {
                    return Err(Error::invalid_argument(
                        "validation_split",
                        format!("must be in [0, 1), got {}", opts.validation_split),
                    ));
                }
                (data, None, None)
            }
        };
        self.seed = opts.seed;
        let n = train.len();
        let train_weights = combine_weights(train, sample_weight.map(|w| &w[..n]), opts.class_weight);

        let bs = opts.batch_size.min(n);
        let batches = n.div_ceil(bs);
        let steps = opts.steps_per_epoch.map_or(batches, |s| s.min(batches));
        let mut order: Vec<usize> = (0..n).collect();
        let mut history = History::default();
        let mut progress = Progress::new(opts.verbose);
        let wants_logs = !opts.callbacks.is_empty() || progress.is_live();
        let mut last = Logs::default();
        for cb in opts.callbacks.iter_mut() {
            cb.on_train_begin(&mut self.context());
        }
        for epoch in opts.initial_epoch..opts.epochs {
            for cb in opts.callbacks.iter_mut() {
                cb.on_epoch_begin(epoch, &mut self.context());
            }
            if opts.shuffle {
                order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
                Rng::derive(opts.seed, epoch as u64).shuffle(&mut order);
            }
            self.shards.iter_mut().for_each(Shard::reset_sums);
            progress.epoch_begin(epoch, opts.epochs, steps);
            let mut stop = false;
            for step in 0..steps {
                for cb in opts.callbacks.iter_mut() {
                    cb.on_train_batch_begin(step, &mut self.context());
                }
                let idx = &order[step * bs..((step + 1) * bs).min(n)];
                self.run_batch(
                    train,
                    idx,
                    train_weights.as_deref(),
                    Pass::Train { seed: opts.seed },
                );
                if wants_logs {
                    let logs = self.epoch_logs();
                    progress.step(step + 1, &logs);
                    for cb in opts.callbacks.iter_mut() {
                        stop |= cb.on_train_batch_end(step, &logs, &mut self.context()) == Control::Stop;
                    }
                }
                // Keras's `stop_training` set in a batch hook ends the epoch after this
                // batch; validation and `on_epoch_end` still run.
                if stop {
                    break;
                }
            }
            let mut logs = self.epoch_logs();
            if let Some(v) = val.filter(|_| (epoch + 1) % opts.validation_freq == 0) {
                let vopts = EvaluateOptions {
                    batch_size: bs.max(32),
                    sample_weight: val_weights,
                };
                let vlogs = self.evaluate_with(v, vopts)?;
                for (name, value) in vlogs.iter() {
                    logs.set(&format!("val_{name}"), value);
                }
            }
            progress.epoch_end(&logs);
            history.epochs.push(epoch);
            history.logs.push(logs.clone());
            for cb in opts.callbacks.iter_mut() {
                stop |= cb.on_epoch_end(epoch, &logs, &mut self.context()) == Control::Stop;
            }
            last = logs;
            if stop {
                break;
            }
        }
        for cb in opts.callbacks.iter_mut() {
            cb.on_train_end(&last, &mut self.context());
        }
        Ok(history)
    }

    /// The loss and metrics on `data` (Keras's `model.evaluate`, batch size 32).
    pub fn evaluate(&mut self, data: &Dataset) -> Result<Logs> {
        self.evaluate_with(data, EvaluateOptions::default())
    }

    /// [`Trainer::evaluate`] with a batch size and sample weights.
    pub fn evaluate_with(&mut self, data: &Dataset, opts: EvaluateOptions<'_>) -> Result<Logs> {
        if opts.batch_size == 0 {
            return Err(Error::invalid_argument("batch_size", "must be at least 1"));
        }
        self.check_setup()?;
        let n = check_dataset::<M>(data, &self.heads)?;
        let weights = check_weights(opts.sample_weight, n, "sample_weight")?;
        // Evaluation keeps its own sums: save and restore the training ones.
        #[allow(clippy::type_complexity)]
        let saved: Vec<(f64, Vec<f64>, f64, Vec<Vec<f64>>)> = self
            .shards
            .iter()
            .map(|s| (s.loss_sum, s.head_loss.clone(), s.count, s.metrics.clone()))
            .collect();
        self.shards.iter_mut().for_each(Shard::reset_sums);
        let order: Vec<usize> = (0..n).collect();
        for idx in order.chunks(opts.batch_size) {
            self.run_batch(data, idx, weights, Pass::Eval);
        }
        let logs = self.epoch_logs();
        for (s, (loss, head_loss, count, metrics)) in self.shards.iter_mut().zip(saved) {
            s.loss_sum = loss;
            s.head_loss = head_loss;
            s.count = count;
            s.metrics = metrics;
        }
        Ok(logs)
    }

    /// One training step on `batch` as a single batch (Keras's `train_on_batch`); returns
    /// that batch's loss and metrics.
    pub fn train_on_batch(&mut self, batch: &Dataset, sample_weight: Option<&[f32]>) -> Result<Logs> {
        self.check_setup()?;
        let n = check_dataset::<M>(batch, &self.heads)?;
        let weights = check_weights(sample_weight, n, "sample_weight")?;
        self.shards.iter_mut().for_each(Shard::reset_sums);
        let idx: Vec<usize> = (0..n).collect();
        self.run_batch(batch, &idx, weights, Pass::Train { seed: 0 });
        Ok(self.epoch_logs())
    }

    /// The loss and metrics of `batch` as a single batch (Keras's `test_on_batch`).
    pub fn test_on_batch(&mut self, batch: &Dataset, sample_weight: Option<&[f32]>) -> Result<Logs> {
        let n = batch.len();
        self.evaluate_with(
            batch,
            EvaluateOptions {
                batch_size: n.max(1),
                sample_weight,
            },
        )
    }

    /// The model's outputs for `x` as a single batch (Keras's `predict_on_batch`).
    pub fn predict_on_batch(&self, x: &[f32]) -> Result<Vec<f32>> {
        use super::ModelExt;
        let n = x.len() / <M::Input as Shape>::LEN;
        self.model.predict(x, n.max(1))
    }

    /// The running loss and metrics from the shards' sums, in Keras's order: for one
    /// output, metrics then loss; for several, every name sorted (Keras 3 sorts its logs).
    fn epoch_logs(&self) -> Logs {
        let mut logs = Logs::default();
        let mut state = Vec::new();
        for (i, m) in self.compiled.iter().enumerate() {
            state.clear();
            for s in &self.shards {
                if state.is_empty() {
                    state.extend_from_slice(&s.metrics[i]);
                } else {
                    state.iter_mut().zip(&s.metrics[i]).for_each(|(a, b)| *a += b);
                }
            }
            logs.set(
                &m.name,
                if state.is_empty() {
                    f64::NAN
                } else {
                    m.metric.result(&state)
                },
            );
        }
        let count: f64 = self.shards.iter().map(|s| s.count).sum();
        let mean = |sum: f64| if count > 0.0 { sum / count } else { f64::NAN };
        if self.heads.len() > 1 {
            for (k, head) in self.heads.iter().enumerate() {
                logs.set(
                    &head.loss_name,
                    mean(self.shards.iter().map(|s| s.head_loss[k]).sum()),
                );
            }
        }
        logs.set("loss", mean(self.shards.iter().map(|s| s.loss_sum).sum()));
        if self.heads.len() > 1 {
            logs.sort_by_name();
        }
        logs
    }

    /// Runs one batch (the samples `idx` of `data`, with per-sample `weights`): a training
    /// step or an evaluation.
    fn run_batch(&mut self, data: &Dataset, idx: &[usize], weights: Option<&[f32]>, pass: Pass) {
        let b = idx.len();
        let in_len = <M::Input as Shape>::LEN;
        let out_len = <M::Output as Shape>::LEN;

        // Gather the targets into reused buffers (each shard gathers its own inputs).
        for (k, bt) in self.targets.iter_mut().enumerate() {
            match data.y.part(k) {
                Target::Classes(c) => {
                    bt.sparse = true;
                    bt.classes.clear();
                    bt.classes.extend(idx.iter().map(|&i| c[i]));
                }
                Target::Values { data: v, width: w } => {
                    bt.sparse = false;
                    bt.values.clear();
                    for &i in idx {
                        bt.values.extend_from_slice(&v[i * w..(i + 1) * w]);
                    }
                }
                // Rejected by `check_dataset`.
                Target::Multi(_) => {}
            }
        }
        self.sample_weights.clear();
        if let Some(w) = weights {
            self.sample_weights.extend(idx.iter().map(|&i| w[i]));
        }

        // Layers with batch statistics see the whole batch at once.
        let n = if M::WHOLE_BATCH {
            1
        } else {
            shard_count(b, M::WORKSPACE)
        };
        while self.shards.len() < n {
            let lens = self
                .compiled
                .iter()
                .map(|c| c.metric.state_len(self.heads[c.head].width));
            self.shards.push(Shard::new(lens, self.heads.len()));
        }
        let ws_per = M::WORKSPACE.max(M::SCRATCH);
        let gathered = self
            .heads
            .iter()
            .filter(|h| !h.is_whole_row::<M>())
            .map(|h| h.len)
            .max()
            .unwrap_or(0);
        let loss_rows = self.heads.iter().map(|h| h.rows).max().unwrap_or(0);
        for s in 0..n {
            let rows = shard_rows(b, n, s).len();
            self.shards[s].reserve(rows, ws_per, out_len, gathered, loss_rows);
        }

        let model = &*self.model;
        let objective = &self.loss;
        let (heads, compiled) = (&self.heads, &self.compiled);
        let (targets, sample_weights) = (&self.targets, &self.sample_weights);
        let weighted = weights.is_some();
        let step = self.steps_done;
        for_each_shard(&mut self.shards, n, |s, sh| {
            let rows = shard_rows(b, n, s);
            let bs = rows.len();
            // The shard's rows of the batch, copied in parallel by the shards' threads.
            let mut xs = core::mem::take(&mut sh.x);
            xs.clear();
            for &i in &idx[rows.clone()] {
                xs.extend_from_slice(&data.x[i * in_len..(i + 1) * in_len]);
            }
            let x = &xs[..];
            let sw = weighted.then(|| &sample_weights[rows.clone()]);
            let train = match pass {
                Pass::Train { seed } => {
                    let mut rng = Rng::derive(
                        seed ^ 0xD509_u64.rotate_left(40),
                        step * MAX_SHARDS as u64 + s as u64,
                    );
                    model.forward_train(x, bs, &mut sh.ws, &mut rng);
                    if gathered > 0 {
                        // Outputs write their own columns of the gradient.
                        sh.dy[..bs * out_len].fill(0.0);
                    }
                    true
                }
                Pass::Eval => {
                    model.forward_batch(x, &mut sh.dy[..bs * out_len], bs, &mut sh.ws);
                    false
                }
            };
            for (k, head) in heads.iter().enumerate() {
                let bt = &targets[k];
                let t = if bt.sparse {
                    Targets::Sparse(&bt.classes[rows.clone()])
                } else {
                    Targets::Dense(&bt.values[rows.start * head.len..rows.end * head.len])
                };
                let run = HeadRun {
                    head,
                    loss: objective.loss_at(head.loss),
                    batch: b,
                    bs,
                    out_len,
                    whole: head.is_whole_row::<M>(),
                };
                let sum = run.apply(
                    sh,
                    train,
                    t,
                    sw,
                    compiled.iter().enumerate().filter(|(_, c)| c.head == k),
                );
                sh.head_loss[k] += sum;
                sh.loss_sum += f64::from(head.weight) * sum;
            }
            sh.count += bs as f64;
            if train {
                // The gradients are written, not added: no zeroing pass over them.
                model.backward_fresh(x, bs, &mut sh.ws, &mut sh.dy[..bs * out_len], &mut sh.grads);
            }
            sh.x = xs;
        });

        if let Pass::Train { .. } = pass {
            // Non-trainable parameters (moving statistics) are kept out of the update
            // (weight decay would otherwise touch them), then updated from the batch.
            self.frozen.clear();
            for &(start, len) in M::NON_TRAINABLE {
                self.frozen
                    .extend_from_slice(&self.model.flat()[start..start + len]);
            }
            // The shards' gradients are summed, in shard order, inside the update.
            let (grads, rest) = split_grads(&mut self.shards, n);
            self.optimizer
                .step_sum(self.model.flat_mut(), grads, &rest[..n - 1], &self.tensors);
            let mut at = 0;
            for &(start, len) in M::NON_TRAINABLE {
                self.model.flat_mut()[start..start + len].copy_from_slice(&self.frozen[at..at + len]);
                at += len;
            }
            if M::WHOLE_BATCH {
                self.model.update_state(&self.shards[0].ws, b);
            }
            self.steps_done += 1;
        }
    }
}

/// One output's share of a shard's step.
struct HeadRun<'a> {
    head: &'a Head,
    loss: &'a dyn Loss,
    /// Samples in the whole batch and in this shard.
    batch: usize,
    bs: usize,
    out_len: usize,
    /// Whether the output is the whole row (no gathering).
    whole: bool,
}

impl HeadRun<'_> {
    /// Computes the output's losses and metrics on the shard's outputs (the training
    /// workspace's when `train`, else those in `sh.dy`) and, when `train`, writes the
    /// gradient of `weight · loss` (Keras's `sum_over_batch_size` over the whole batch)
    /// into the output's columns of `sh.dy`. Returns the sum of the weighted per-sample
    /// losses (each the mean over the sample's rows).
    fn apply<'m, M: Model>(
        &self,
        sh: &mut Shard<M>,
        train: bool,
        targets: Targets<'_>,
        sample_weights: Option<&[f32]>,
        metrics: impl Iterator<Item = (usize, &'m CompiledMetric)>,
    ) -> f64 {
        let Self {
            head,
            loss,
            batch,
            bs,
            out_len,
            whole,
        } = *self;
        let (width, rows) = (head.width, head.rows);
        let Shard {
            ws,
            dy,
            pred,
            grad,
            losses,
            row_weights,
            metrics: states,
            ..
        } = sh;
        let losses = &mut losses[..bs * rows];
        let rw = sample_weights.map(|w| {
            let rw = &mut row_weights[..bs * rows];
            for (r, w) in rw.chunks_exact_mut(rows).zip(w) {
                r.fill(*w);
            }
            &*rw
        });
        let update_metrics = |p: &[f32]| {
            for (i, m) in metrics {
                m.metric.update(p, targets, width, rw, &mut states[i]);
            }
        };
        // Keras's `sum_over_batch_size` divides by the loss rows of the whole batch; the
        // output's weight scales its share of the total.
        let scale = head.weight * (1.0 / (batch * rows) as f32);
        if !train {
            let p = self.values(&dy[..bs * out_len], pred);
            loss.compute(p, targets, width, losses, None);
            update_metrics(p);
        } else if whole {
            let p = M::train_output(ws, bs);
            let g = &mut dy[..bs * out_len];
            loss.compute(p, targets, width, losses, Some(g));
            scale_rows(g, width, rw, scale);
            update_metrics(p);
        } else {
            let p = self.values(M::train_output(ws, bs), pred);
            let g = &mut grad[..bs * head.len];
            loss.compute(p, targets, width, losses, Some(g));
            scale_rows(g, width, rw, scale);
            crate::model::scatter_rows(g, out_len, head.offset, head.len, dy, bs);
            update_metrics(p);
        }
        if let Some(rw) = rw {
            losses.iter_mut().zip(rw).for_each(|(l, w)| *l *= w);
        }
        // Per-sample loss: the mean over the sample's rows; Keras's reduction divides
        // the weighted sum by the number of samples.
        losses.iter().map(|&l| f64::from(l)).sum::<f64>() / rows as f64
    }
}

impl HeadRun<'_> {
    /// The output's values in `out` (the shard's output rows), contiguous: `out` itself
    /// for an output that is the whole row, else gathered into `buf`.
    fn values<'b>(&self, out: &'b [f32], buf: &'b mut [f32]) -> &'b [f32] {
        if self.whole {
            return out;
        }
        let (head, bs) = (self.head, self.bs);
        crate::model::gather_rows(out, self.out_len, head.offset, head.len, buf, bs);
        &buf[..bs * head.len]
    }
}

/// Multiplies each row of `width` gradient values by `scale` and its row weight.
fn scale_rows(g: &mut [f32], width: usize, row_weights: Option<&[f32]>, scale: f32) {
    match row_weights {
        None => g.iter_mut().for_each(|v| *v *= scale),
        Some(rw) => {
            for (row, &w) in g.chunks_exact_mut(width).zip(rw) {
                row.iter_mut().for_each(|v| *v *= w * scale);
            }
        }
    }
}

/// Checks optional per-sample weights: `n` finite, non-negative values.
fn check_weights<'w>(w: Option<&'w [f32]>, n: usize, name: &'static str) -> Result<Option<&'w [f32]>> {
    let Some(w) = w else { return Ok(None) };
    if w.len() != n {
        return Err(Error::invalid_argument(
            name,
            format!("needs {n} weights, got {}", w.len()),
        ));
    }
    if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(Error::invalid_argument(
            name,
            format!("weight {i} is {}; weights must be finite and non-negative", w[i]),
        ));
    }
    Ok(Some(w))
}

/// Per-sample weights from sample weights and class weights (both optional, validated).
fn combine_weights(data: &Dataset, sample: Option<&[f32]>, class: Option<&[f32]>) -> Option<Vec<f32>> {
    if sample.is_none() && class.is_none() {
        return None;
    }
    let n = data.len();
    let mut w: Vec<f32> = sample.map_or_else(|| alloc::vec![1.0; n], <[f32]>::to_vec);
    if let Some(cw) = class {
        for (i, wi) in w.iter_mut().enumerate() {
            let class = match &data.y {
                Target::Classes(c) => c[i] as usize,
                Target::Values { data: v, width: 1 } => usize::from(v[i] > 0.5),
                Target::Values { data: v, width } => super::metrics::argmax(&v[i * width..(i + 1) * width]),
                // `fit` rejects class weights for several outputs.
                Target::Multi(_) => usize::MAX,
            };
            *wi *= cw.get(class).copied().unwrap_or(1.0);
        }
    }
    Some(w)
}
