//! What `compile` takes as its loss: one [`Loss`] for every output, or [`PerOutput`]
//! losses, loss weights and metrics for a model with several outputs (Keras's
//! `compile(loss={...}, loss_weights={...}, metrics={...})`).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Metric;
use crate::data::names;
use crate::losses::{Loss, TargetKind};
use crate::{Model, Shape, TensorInfo};

/// The loss argument of [`compile`](super::ModelExt::compile): any [`Loss`] (applied to
/// every output with weight 1, as Keras applies `loss="mse"` to each output) or
/// [`PerOutput`]. Sealed: implemented only by those.
pub trait Objective: sealed::Resolve + Send + Sync {}

impl<L: Loss> Objective for L {}
impl Objective for PerOutput {}

pub(crate) mod sealed {
    use super::{Metric, TensorInfo};
    use crate::losses::Loss;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// What one output is trained with.
    pub struct OutputSpec {
        /// Index for [`Resolve::loss_at`].
        pub loss: usize,
        pub weight: f32,
        pub metrics: Vec<Metric>,
    }

    /// How an objective applies to a model's outputs.
    pub trait Resolve {
        /// One spec per output, in order; or the argument at fault and what is wrong.
        fn resolve(
            &self,
            model: &str,
            outputs: &[TensorInfo],
        ) -> Result<Vec<OutputSpec>, (&'static str, String)>;
        /// Loss `i` of the specs.
        fn loss_at(&self, i: usize) -> &dyn Loss;
    }
}
use sealed::{OutputSpec, Resolve};

impl<L: Loss> Resolve for L {
    fn resolve(
        &self,
        _model: &str,
        outputs: &[TensorInfo],
    ) -> Result<Vec<OutputSpec>, (&'static str, String)> {
        Ok(outputs
            .iter()
            .map(|_| OutputSpec {
                loss: 0,
                weight: 1.0,
                metrics: Vec::new(),
            })
            .collect())
    }

    fn loss_at(&self, _i: usize) -> &dyn Loss {
        self
    }
}

/// A loss per output, with optional loss weights and metrics per output, for a model with
/// several outputs: Keras's `compile(loss={"a": ..., "b": ...}, loss_weights={"a": 1.0,
/// "b": 0.5}, metrics={"a": ["accuracy"]})`.
///
/// The loss `fit` minimises is `Σ weight_k · loss_k`, where `loss_k` is output `k`'s loss
/// averaged over its rows as Keras does (`sum_over_batch_size`). Logs hold `loss`, then
/// `<output>_loss` for every output and `<output>_<metric>` for every metric (unweighted),
/// sorted by name as Keras 3 sorts them.
///
/// Every output needs a loss; names are checked against the model's outputs when `fit`,
/// `evaluate` or `train_on_batch` runs, which fail with what is wrong. The `metrics` of
/// `compile` must then be empty (Keras takes a flat metric list for a model with several
/// outputs only as one entry per output).
///
/// ```
/// use kerust::prelude::*;
/// use kerust::train::PerOutput;
/// model! { struct Net: Input<4> { out: Dense(3) } }
/// let losses = PerOutput::new()
///     .loss("out", SparseCategoricalCrossentropy::from_logits())
///     .loss_weight("out", 0.5)
///     .metrics("out", [Metric::Accuracy]);
/// let mut trainer = Net::new(0).compile(Sgd::new(0.1), losses, []);
/// let data = Dataset::new(vec![0.5; 8], &[4], Target::Classes(vec![0, 2]))?;
/// let logs = trainer.evaluate(&data)?;
/// assert!(logs.get("accuracy").is_some());
///
/// let typo = PerOutput::new().loss("digit", MeanSquaredError::new());
/// let err = Net::new(0).compile(Sgd::new(0.1), typo, []).evaluate(&data).unwrap_err();
/// assert!(err.to_string().contains("no such output"));
/// # Ok::<(), kerust::Error>(())
/// ```
#[derive(Default)]
pub struct PerOutput {
    losses: Vec<(String, Box<dyn Loss>)>,
    weights: Vec<(String, f32)>,
    metrics: Vec<(String, Vec<Metric>)>,
}

impl PerOutput {
    /// No losses yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loss of output `output` (Keras's `loss={output: loss}`).
    pub fn loss(mut self, output: &str, loss: impl Loss + 'static) -> Self {
        self.losses.push((output.into(), Box::new(loss)));
        self
    }

    /// The weight of output `output`'s loss in the total (Keras's `loss_weights`;
    /// default 1). Must be finite and non-negative.
    pub fn loss_weight(mut self, output: &str, weight: f32) -> Self {
        self.weights.push((output.into(), weight));
        self
    }

    /// Metrics of output `output` (Keras's `metrics={output: [...]}`), logged as
    /// `<output>_<metric>` (for a model with one output: `<metric>`).
    pub fn metrics(mut self, output: &str, metrics: impl IntoIterator<Item = Metric>) -> Self {
        self.metrics.push((output.into(), metrics.into_iter().collect()));
        self
    }

    /// The losses, by output name, in the order given.
    pub fn losses(&self) -> impl Iterator<Item = (&str, &dyn Loss)> {
        self.losses.iter().map(|(n, l)| (n.as_str(), &**l))
    }
}

impl Resolve for PerOutput {
    fn resolve(
        &self,
        model: &str,
        outputs: &[TensorInfo],
    ) -> Result<Vec<OutputSpec>, (&'static str, String)> {
        let find = |arg: &'static str, name: &str| {
            outputs.iter().position(|o| o.name == name).ok_or_else(|| {
                (
                    arg,
                    format!(
                        "given for output `{name}`, but model `{model}` has no such output (its outputs: {})",
                        names(outputs)
                    ),
                )
            })
        };
        let mut specs: Vec<Option<OutputSpec>> = outputs.iter().map(|_| None).collect();
        for (i, (name, _)) in self.losses.iter().enumerate() {
            let k = find("loss", name)?;
            let spec = OutputSpec {
                loss: i,
                weight: 1.0,
                metrics: Vec::new(),
            };
            if specs[k].replace(spec).is_some() {
                return Err(("loss", format!("two losses for output `{name}`")));
            }
        }
        let missing: Vec<&str> = outputs
            .iter()
            .zip(&specs)
            .filter(|(_, s)| s.is_none())
            .map(|(o, _)| o.name)
            .collect();
        if !missing.is_empty() {
            return Err((
                "loss",
                format!(
                    "no loss for output `{}` of model `{model}`: every output needs one (its outputs: {})",
                    missing.join("`, `"),
                    names(outputs)
                ),
            ));
        }
        let mut specs: Vec<OutputSpec> = specs.into_iter().flatten().collect();
        for (name, w) in &self.weights {
            let k = find("loss_weights", name)?;
            if !w.is_finite() || *w < 0.0 {
                return Err((
                    "loss_weights",
                    format!("the weight of output `{name}` is {w}; weights must be finite and non-negative"),
                ));
            }
            specs[k].weight = *w;
        }
        for (name, metrics) in &self.metrics {
            let k = find("metrics", name)?;
            specs[k].metrics.extend_from_slice(metrics);
        }
        Ok(specs)
    }

    fn loss_at(&self, i: usize) -> &dyn Loss {
        &*self.losses[i].1
    }
}

/// One output as the training loop sees it: where it lies in the row, how its loss rows
/// are cut, and what it is trained with.
pub(crate) struct Head {
    pub name: &'static str,
    pub shape: &'static [usize],
    /// Offset and length in the per-sample output row.
    pub offset: usize,
    pub len: usize,
    /// The loss's row width (the output's last axis) and the rows per sample.
    pub width: usize,
    pub rows: usize,
    /// Index for `Resolve::loss_at`, its weight and the kind of targets it takes.
    pub loss: usize,
    pub weight: f32,
    pub kind: TargetKind,
    /// `<output>_loss`, logged for models with several outputs.
    pub loss_name: String,
}

impl Head {
    /// Whether this output is the whole row (then no gathering is needed).
    pub(crate) fn is_whole_row<M: Model>(&self) -> bool {
        self.offset == 0 && self.len == <M::Output as Shape>::LEN
    }
}

/// A compiled metric: which output it measures and its log name.
pub(crate) struct CompiledMetric {
    pub metric: Metric,
    pub head: usize,
    pub name: String,
}

/// The heads and metrics of model `M` compiled with `objective` and the flat `metrics` of
/// `compile`; or the argument at fault and what is wrong.
#[allow(clippy::type_complexity)]
pub(crate) fn setup<M: Model, L: Objective>(
    objective: &L,
    metrics: &[Metric],
) -> Result<(Vec<Head>, Vec<CompiledMetric>), (&'static str, String)> {
    let outputs = M::OUTPUTS;
    let out_len = <M::Output as Shape>::LEN;
    if outputs.is_empty() {
        return Err(("model", format!("model `{}` declares no outputs", M::NAME)));
    }
    for o in outputs {
        let width = o.shape.last().copied().unwrap_or(1);
        if o.len == 0 || o.offset + o.len > out_len || width == 0 || !o.len.is_multiple_of(width) {
            return Err((
                "model",
                format!(
                    "output `{}` of model `{}` (offset {}, {} values, shape {:?}) does not fit its {out_len}-value output row",
                    o.name,
                    M::NAME,
                    o.offset,
                    o.len,
                    o.shape
                ),
            ));
        }
    }
    let specs = objective.resolve(M::NAME, outputs)?;
    let several = outputs.len() > 1;
    if several && !metrics.is_empty() {
        return Err((
            "metrics",
            format!(
                "model `{}` has {} outputs ({}): give metrics per output with PerOutput::metrics (Keras's metrics={{\"{}\": [...]}})",
                M::NAME,
                outputs.len(),
                names(outputs),
                outputs[0].name
            ),
        ));
    }
    let mut heads = Vec::with_capacity(outputs.len());
    let mut compiled = Vec::new();
    for (k, (o, spec)) in outputs.iter().zip(specs).enumerate() {
        let width = o.shape.last().copied().unwrap_or(1);
        let name = |m: &Metric| {
            if several {
                format!("{}_{}", o.name, m.name())
            } else {
                m.name().into()
            }
        };
        let flat = if several { &[][..] } else { metrics };
        for m in flat.iter().chain(&spec.metrics) {
            compiled.push(CompiledMetric {
                metric: *m,
                head: k,
                name: name(m),
            });
        }
        heads.push(Head {
            name: o.name,
            shape: o.shape,
            offset: o.offset,
            len: o.len,
            width,
            rows: o.len / width,
            loss: spec.loss,
            weight: spec.weight,
            kind: objective.loss_at(spec.loss).target_kind(),
            loss_name: format!("{}_loss", o.name),
        });
    }
    Ok((heads, compiled))
}
