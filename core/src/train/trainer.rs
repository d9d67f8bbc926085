//! [`Trainer`]: a compiled model (model + optimizer + loss + metrics), as Keras's
//! `model.compile(...)` returns.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use super::progress::Progress;
use super::shards::{for_each_shard, reduce_grads, shard_count, shard_rows, Shard, MAX_SHARDS};
use super::validate::{check_dataset, out_width};
use super::{Control, FitOptions, History, Logs, Metric};
use crate::data::{Dataset, Target};
use crate::losses::{Loss, Targets};
use crate::optim::Optimizer;
use crate::{Error, Model, Result, Rng, Shape};

/// A model compiled with an optimizer, a loss and metrics: `fit`, `evaluate`, and access
/// to the trained model.
pub struct Trainer<M: Model, O: Optimizer, L: Loss> {
    model: Box<M>,
    optimizer: O,
    loss: L,
    metrics: Vec<Metric>,
    shards: Vec<Shard<M>>,
    xb: Vec<f32>,
    classes: Vec<u32>,
    values: Vec<f32>,
    frozen: Vec<f32>,
    steps_done: u64,
}

/// Which pass a batch runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Train { seed: u64 },
    Eval,
}

impl<M: Model, O: Optimizer, L: Loss> Trainer<M, O, L> {
    /// Compiles `model` (Keras's `model.compile(optimizer, loss, metrics)`).
    pub fn new(model: Box<M>, optimizer: O, loss: L, metrics: impl IntoIterator<Item = Metric>) -> Self {
        Trainer {
            model,
            optimizer,
            loss,
            metrics: metrics.into_iter().collect(),
            shards: Vec::new(),
            xb: Vec::new(),
            classes: Vec::new(),
            values: Vec::new(),
            frozen: Vec::new(),
            steps_done: 0,
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

    /// Trains the model (Keras's `model.fit`): `epochs` passes over `data` in batches of
    /// `batch_size`, reporting the loss and metrics of each epoch, with validation data
    /// when asked. Fails, before any training, when the data does not fit the model.
    pub fn fit(&mut self, data: &Dataset, mut opts: FitOptions<'_>) -> Result<History> {
        if opts.batch_size == 0 {
            return Err(Error::invalid_argument("batch_size", "must be at least 1"));
        }
        check_dataset::<M>(data, self.loss.target_kind())?;
        let split;
        let (train, val): (&Dataset, Option<&Dataset>) = match opts.validation_data {
            Some(v) => {
                check_dataset::<M>(v, self.loss.target_kind()).map_err(|e| match e {
                    Error::Data(reason) => Error::data(format!("validation data: {reason}")),
                    other => other,
                })?;
                (data, Some(v))
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
                (&split.0, Some(&split.1))
            }
            None => {
                if !(0.0..1.0).contains(&opts.validation_split) {
                    return Err(Error::invalid_argument(
                        "validation_split",
                        format!("must be in [0, 1), got {}", opts.validation_split),
                    ));
                }
                (data, None)
            }
        };

        let n = train.len();
        let bs = opts.batch_size.min(n);
        let steps = n.div_ceil(bs);
        let mut order: Vec<usize> = (0..n).collect();
        let mut history = History::default();
        let mut progress = Progress::new(opts.verbose);
        let mut last = Logs::default();
        for cb in opts.callbacks.iter_mut() {
            cb.on_train_begin();
        }
        for epoch in 0..opts.epochs {
            for cb in opts.callbacks.iter_mut() {
                cb.on_epoch_begin(epoch);
            }
            if opts.shuffle {
                Rng::derive(opts.seed, epoch as u64).shuffle(&mut order);
            }
            self.shards.iter_mut().for_each(Shard::reset_sums);
            progress.epoch_begin(epoch, opts.epochs, steps);
            let mut stop = false;
            for step in 0..steps {
                for cb in opts.callbacks.iter_mut() {
                    cb.on_train_batch_begin(step);
                }
                let idx = &order[step * bs..((step + 1) * bs).min(n)];
                self.run_batch(train, idx, Pass::Train { seed: opts.seed });
                if !opts.callbacks.is_empty() || progress_wants_logs(&opts) {
                    let logs = self.epoch_logs("");
                    progress.step(step + 1, &logs);
                    for cb in opts.callbacks.iter_mut() {
                        stop |= cb.on_train_batch_end(step, &logs) == Control::Stop;
                    }
                }
                // Keras's `stop_training` set in a batch hook ends the epoch after this
                // batch; validation and `on_epoch_end` still run.
                if stop {
                    break;
                }
            }
            let mut logs = self.epoch_logs("");
            if let Some(v) = val {
                let vlogs = self.evaluate_with(v, bs.max(32))?;
                for (name, value) in vlogs.iter() {
                    logs.set(&format!("val_{name}"), value);
                }
            }
            progress.epoch_end(&logs);
            history.epochs.push(epoch);
            history.logs.push(logs.clone());
            for cb in opts.callbacks.iter_mut() {
                stop |= cb.on_epoch_end(epoch, &logs) == Control::Stop;
            }
            last = logs;
            if stop {
                break;
            }
        }
        for cb in opts.callbacks.iter_mut() {
            cb.on_train_end(&last);
        }
        Ok(history)
    }

    /// The loss and metrics on `data` (Keras's `model.evaluate`, batch size 32).
    pub fn evaluate(&mut self, data: &Dataset) -> Result<Logs> {
        self.evaluate_with(data, 32)
    }

    /// [`Trainer::evaluate`] with a batch size.
    pub fn evaluate_with(&mut self, data: &Dataset, batch_size: usize) -> Result<Logs> {
        if batch_size == 0 {
            return Err(Error::invalid_argument("batch_size", "must be at least 1"));
        }
        let n = check_dataset::<M>(data, self.loss.target_kind())?;
        // Evaluation keeps its own sums: save and restore the training ones.
        let saved: Vec<(f64, f64, Vec<[f64; 2]>)> = self
            .shards
            .iter()
            .map(|s| (s.loss_sum, s.count, s.metrics.clone()))
            .collect();
        self.shards.iter_mut().for_each(Shard::reset_sums);
        let order: Vec<usize> = (0..n).collect();
        for idx in order.chunks(batch_size) {
            self.run_batch(data, idx, Pass::Eval);
        }
        let logs = self.epoch_logs("");
        for (s, (loss, count, metrics)) in self.shards.iter_mut().zip(saved) {
            s.loss_sum = loss;
            s.count = count;
            s.metrics = metrics;
        }
        Ok(logs)
    }

    /// The running loss and metrics from the shards' sums, in Keras's order (metrics, then
    /// loss).
    fn epoch_logs(&self, prefix: &str) -> Logs {
        let mut logs = Logs::default();
        let mut count = 0.0;
        let mut loss = 0.0;
        for (i, m) in self.metrics.iter().enumerate() {
            let (mut sum, mut cnt) = (0.0, 0.0);
            for s in &self.shards {
                sum += s.metrics[i][0];
                cnt += s.metrics[i][1];
            }
            logs.set(
                &format!("{prefix}{}", m.name()),
                if cnt > 0.0 { sum / cnt } else { f64::NAN },
            );
        }
        for s in &self.shards {
            loss += s.loss_sum;
            count += s.metrics_count();
        }
        logs.set(
            &format!("{prefix}loss"),
            if count > 0.0 { loss / count } else { f64::NAN },
        );
        logs
    }

    /// Runs one batch (the samples `idx` of `data`): training step or evaluation.
    fn run_batch(&mut self, data: &Dataset, idx: &[usize], pass: Pass) {
        let b = idx.len();
        let in_len = <M::Input as Shape>::LEN;
        let out_len = <M::Output as Shape>::LEN;
        let width = out_width::<M>();
        let rows_per_sample = out_len / width;

        // Gather the batch into reused buffers.
        self.xb.clear();
        for &i in idx {
            self.xb.extend_from_slice(&data.x[i * in_len..(i + 1) * in_len]);
        }
        let sparse = match &data.y {
            Target::Classes(c) => {
                self.classes.clear();
                self.classes.extend(idx.iter().map(|&i| c[i]));
                true
            }
            Target::Values { data: v, width: w } => {
                self.values.clear();
                for &i in idx {
                    self.values.extend_from_slice(&v[i * w..(i + 1) * w]);
                }
                false
            }
        };

        // Layers with batch statistics see the whole batch at once.
        let n = if M::WHOLE_BATCH { 1 } else { shard_count(b) };
        let n_metrics = self.metrics.len();
        while self.shards.len() < n {
            self.shards.push(Shard::new(n_metrics));
        }
        let ws_per = M::WORKSPACE.max(M::SCRATCH);
        for s in 0..n {
            let rows = shard_rows(b, n, s).len();
            self.shards[s].reserve(rows, ws_per, out_len, rows * rows_per_sample);
        }

        let model = &*self.model;
        let loss = &self.loss;
        let metrics = &self.metrics;
        let (xb, classes, values) = (&self.xb, &self.classes, &self.values);
        let scale = 1.0 / (b * rows_per_sample) as f32;
        let step = self.steps_done;
        for_each_shard(&mut self.shards, n, |s, sh| {
            let rows = shard_rows(b, n, s);
            let bs = rows.len();
            let x = &xb[rows.start * in_len..rows.end * in_len];
            let targets = if sparse {
                Targets::Sparse(&classes[rows.clone()])
            } else {
                Targets::Dense(&values[rows.start * out_len..rows.end * out_len])
            };
            let losses = &mut sh.losses[..bs * rows_per_sample];
            match pass {
                Pass::Train { seed } => {
                    sh.grads.zero();
                    let mut rng = Rng::derive(
                        seed ^ 0xD509_u64.rotate_left(40),
                        step * MAX_SHARDS as u64 + s as u64,
                    );
                    model.forward_train(x, bs, &mut sh.ws, &mut rng);
                    let out = M::train_output(&sh.ws, bs);
                    let dy = &mut sh.dy[..bs * out_len];
                    loss.compute(out, targets, width, losses, Some(dy));
                    for (m, acc) in metrics.iter().zip(sh.metrics.iter_mut()) {
                        m.update(out, targets, width, acc);
                    }
                    dy.iter_mut().for_each(|g| *g *= scale);
                    model.backward(x, bs, &mut sh.ws, dy, &mut sh.grads);
                }
                Pass::Eval => {
                    let out = &mut sh.dy[..bs * out_len];
                    model.forward_batch(x, out, bs, &mut sh.ws);
                    loss.compute(out, targets, width, losses, None);
                    for (m, acc) in metrics.iter().zip(sh.metrics.iter_mut()) {
                        m.update(out, targets, width, acc);
                    }
                }
            }
            // Per-sample loss: the mean over the sample's rows.
            let per = rows_per_sample as f64;
            sh.loss_sum += losses.iter().map(|&l| f64::from(l)).sum::<f64>() / per;
            sh.count += bs as f64;
        });

        if let Pass::Train { .. } = pass {
            reduce_grads(&mut self.shards, n);
            // Non-trainable parameters (moving statistics) are kept out of the update
            // (weight decay would otherwise touch them), then updated from the batch.
            self.frozen.clear();
            for &(start, len) in M::NON_TRAINABLE {
                self.frozen
                    .extend_from_slice(&self.model.flat()[start..start + len]);
            }
            self.optimizer
                .step(self.model.flat_mut(), self.shards[0].grads.flat());
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

fn progress_wants_logs(opts: &FitOptions<'_>) -> bool {
    !matches!(
        opts.verbose,
        super::Verbosity::Silent | super::Verbosity::OneLinePerEpoch
    )
}
