//! In-memory datasets: samples as flat `f32` rows, with class labels or value targets.
//!
//! A model with several inputs takes each sample as one row holding its inputs side by
//! side ([`Model::INPUTS`]); [`Dataset::from_inputs`] and [`join_inputs`] build those rows
//! from one array per input, as Keras's `x=[x_img, x_tab]`. A model with several outputs
//! takes one target per output ([`Target::Multi`], or by name with [`Target::by_name`]);
//! [`split_outputs`] cuts predictions into one array per output.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::{Error, Model, Result, TensorInfo};

/// The targets of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// One class index per sample (for sparse categorical losses and accuracy).
    Classes(Vec<u32>),
    /// `width` values per sample (regression, one-hot, binary targets).
    Values {
        /// The values, sample after sample.
        data: Vec<f32>,
        /// Values per sample.
        width: usize,
    },
    /// One target per output of a model with several outputs, in the order of
    /// [`Model::OUTPUTS`] (Keras's `y=[y_a, y_b]`; [`Target::by_name`] builds it from
    /// Keras's `y={"a": y_a, "b": y_b}`). Nested `Multi` targets are rejected.
    Multi(Vec<Target>),
}

impl Target {
    /// The number of samples the targets describe (`None` if `width` is zero, or if the
    /// parts of a [`Target::Multi`] disagree or there are none).
    pub fn len(&self) -> Option<usize> {
        match self {
            Target::Classes(c) => Some(c.len()),
            Target::Values { data, width } => (*width > 0).then(|| data.len() / width),
            Target::Multi(parts) => {
                let first = parts.first()?.len()?;
                parts.iter().all(|p| p.len() == Some(first)).then_some(first)
            }
        }
    }

    /// Whether there are no targets.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The targets of the samples at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Target {
        match self {
            Target::Classes(c) => Target::Classes(idx.iter().map(|&i| c[i]).collect()),
            Target::Values { data, width } => Target::Values {
                data: idx
                    .iter()
                    .flat_map(|&i| data[i * width..(i + 1) * width].iter().copied())
                    .collect(),
                width: *width,
            },
            Target::Multi(parts) => Target::Multi(parts.iter().map(|p| p.select(idx)).collect()),
        }
    }

    /// The target of output `k` of `outputs`: part `k` of a [`Target::Multi`], or the
    /// target itself for a model with one output.
    pub(crate) fn part(&self, k: usize) -> &Target {
        match self {
            Target::Multi(parts) => &parts[k],
            single => single,
        }
    }

    /// The targets of model `M`'s outputs by output name (Keras's `y={"a": y_a, "b": y_b}`),
    /// as a [`Target::Multi`] in the order of [`Model::OUTPUTS`] (for a model with one
    /// output: that output's target). Fails when a name is not an output of `M`, appears
    /// twice, or an output has no target.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<4> { out: Dense(3) } }
    /// let y = Target::by_name::<Net>([("out", Target::Classes(vec![0, 2]))])?;
    /// assert_eq!(y, Target::Classes(vec![0, 2]));
    /// let err = Target::by_name::<Net>([("digit", Target::Classes(vec![0]))]).unwrap_err();
    /// assert!(err.to_string().contains("`digit`"));
    /// # Ok::<(), kerust::Error>(())
    /// ```
    pub fn by_name<'n, M: Model>(targets: impl IntoIterator<Item = (&'n str, Target)>) -> Result<Target> {
        let mut slots: Vec<Option<Target>> = M::OUTPUTS.iter().map(|_| None).collect();
        for (name, target) in targets {
            let Some(k) = M::OUTPUTS.iter().position(|o| o.name == name) else {
                return Err(Error::data(format!(
                    "target for `{name}`, but model `{}` has no such output (its outputs: {})",
                    M::NAME,
                    names(M::OUTPUTS)
                )));
            };
            if slots[k].replace(target).is_some() {
                return Err(Error::data(format!("two targets for output `{name}`")));
            }
        }
        let missing: Vec<&str> = M::OUTPUTS
            .iter()
            .zip(&slots)
            .filter(|(_, t)| t.is_none())
            .map(|(o, _)| o.name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::data(format!(
                "no target for output `{}` of model `{}` (every output needs one)",
                missing.join("`, `"),
                M::NAME
            )));
        }
        let mut parts: Vec<Target> = slots.into_iter().flatten().collect();
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Target::Multi(parts)
        })
    }
}

/// `` `a`, `b` ``: the names of a model's inputs or outputs, for messages.
pub(crate) fn names(infos: &[TensorInfo]) -> String {
    let names: Vec<String> = infos.iter().map(|t| format!("`{}`", t.name)).collect();
    names.join(", ")
}

/// The samples of model `M`'s inputs, one array per input in the order of
/// [`Model::INPUTS`] (each its samples one after another), joined into the rows `M` takes:
/// each sample's inputs side by side (Keras's `x=[x_img, x_tab]`). Fails, naming the
/// input, when the number of arrays differs from the model's inputs, an array is not a
/// whole number of that input's samples, or the arrays hold different numbers of samples.
///
/// ```
/// use kerust::data::join_inputs;
/// use kerust::prelude::*;
/// model! { struct Net: Input<2> { out: Dense(1) } }
/// assert_eq!(join_inputs::<Net>(&[&[1.0, 2.0, 3.0, 4.0]])?, [1.0, 2.0, 3.0, 4.0]);
/// assert!(join_inputs::<Net>(&[&[1.0, 2.0, 3.0]]).is_err());
/// # Ok::<(), kerust::Error>(())
/// ```
pub fn join_inputs<M: Model>(inputs: &[&[f32]]) -> Result<Vec<f32>> {
    let n = samples_per_part(M::NAME, "input", M::INPUTS, inputs)?;
    let row: usize = M::INPUTS.iter().map(|t| t.len).sum();
    let mut x = vec![0.0; n * row];
    for (info, xs) in M::INPUTS.iter().zip(inputs) {
        crate::model::scatter_rows(xs, row, info.offset, info.len, &mut x, n);
    }
    Ok(x)
}

/// Model `M`'s outputs (its predictions, samples one after another, as `predict` returns
/// them) cut into one array per output, in the order of [`Model::OUTPUTS`] (Keras's
/// `predict` on a model with several outputs). Fails when `y` is not a whole number of
/// output rows.
///
/// ```
/// use kerust::data::split_outputs;
/// use kerust::prelude::*;
/// model! { struct Net: Input<2> { out: Dense(3) } }
/// let y = Net::new(0).predict(&[1.0, 2.0], 1)?;
/// assert_eq!(split_outputs::<Net>(&y)?, [y.clone()]);
/// # Ok::<(), kerust::Error>(())
/// ```
pub fn split_outputs<M: Model>(y: &[f32]) -> Result<Vec<Vec<f32>>> {
    let row: usize = M::OUTPUTS.iter().map(|t| t.len).sum();
    if row == 0 || !y.len().is_multiple_of(row) {
        return Err(Error::data(format!(
            "{} output values are not a whole number of rows of model `{}` ({row} values each)",
            y.len(),
            M::NAME
        )));
    }
    let n = y.len() / row;
    Ok(M::OUTPUTS
        .iter()
        .map(|o| {
            let mut part = vec![0.0; n * o.len];
            crate::model::gather_rows(y, row, o.offset, o.len, &mut part, n);
            part
        })
        .collect())
}

/// The common number of samples of `arrays`, one per entry of `infos` (the model's inputs
/// or outputs), each a whole number of that entry's samples.
fn samples_per_part(model: &str, what: &str, infos: &[TensorInfo], arrays: &[&[f32]]) -> Result<usize> {
    if arrays.len() != infos.len() {
        return Err(Error::data(format!(
            "model `{model}` has {} {what}s ({}), got {} arrays",
            infos.len(),
            names(infos),
            arrays.len()
        )));
    }
    let mut n = None;
    for (k, (info, xs)) in infos.iter().zip(arrays).enumerate() {
        if info.len == 0 || !xs.len().is_multiple_of(info.len) {
            return Err(Error::data(format!(
                "{what} `{}` (#{k}): {} values are not a whole number of samples of shape {:?} ({} values each)",
                info.name,
                xs.len(),
                info.shape,
                info.len
            )));
        }
        let count = xs.len() / info.len;
        match n {
            None => n = Some((count, info.name)),
            Some((first, name)) if first != count => {
                return Err(Error::data(format!(
                    "{what} `{name}` has {first} samples but {what} `{}` has {count}",
                    info.name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(n.map_or(0, |(count, _)| count))
}

/// Samples and their targets, validated on construction.
///
/// ```
/// use kerust::data::{Dataset, Target};
/// let ds = Dataset::new(vec![0.0, 1.0, 2.0, 3.0], &[2], Target::Classes(vec![0, 1]))?;
/// assert_eq!(ds.len(), 2);
/// assert!(Dataset::new(vec![0.0, 1.0, 2.0], &[2], Target::Classes(vec![0, 1])).is_err());
/// # Ok::<(), kerust::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The samples, flattened row-major, one after another.
    pub x: Vec<f32>,
    /// The shape of one sample.
    pub sample_shape: Vec<usize>,
    /// The targets.
    pub y: Target,
}

impl Dataset {
    /// A dataset of `x.len() / product(sample_shape)` samples. Fails when the sizes do not
    /// agree, when a value is NaN or infinite, or when a shape dimension is zero.
    pub fn new(x: Vec<f32>, sample_shape: &[usize], y: Target) -> Result<Self> {
        let per: usize = sample_shape.iter().product();
        if per == 0 || sample_shape.is_empty() {
            return Err(Error::invalid_argument(
                "sample_shape",
                format!("every dimension must be at least 1, got {sample_shape:?}"),
            ));
        }
        if !x.len().is_multiple_of(per) {
            return Err(Error::data(format!(
                "{} input values do not divide into samples of shape {sample_shape:?} ({per} values each)",
                x.len()
            )));
        }
        let n = x.len() / per;
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::data(format!(
                "input value {} of sample {} is {} (inputs must be finite)",
                i % per,
                i / per,
                x[i]
            )));
        }
        check_target(&y, n, None)?;
        Ok(Dataset {
            x,
            sample_shape: sample_shape.to_vec(),
            y,
        })
    }

    /// A dataset for model `M` from one array per input (in the order of
    /// [`Model::INPUTS`], each its samples one after another) and the targets (one per
    /// output for a model with several outputs: [`Target::Multi`] or [`Target::by_name`]),
    /// as Keras's `fit(x=[x_img, x_tab], y={"digit": y_digit, "size": y_size})`. The rows
    /// hold each sample's inputs side by side, as `M` takes them.
    ///
    /// Checks everything against `M`, naming the input or output at fault: the number of
    /// input arrays, each array's length, the same number of samples everywhere, one
    /// target per output, value targets as wide as their output, class labels below
    /// their output's width, finite values.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<3> { out: Dense(2) } }
    /// let ds = Dataset::from_inputs::<Net>(&[&[0.0; 6]], Target::Classes(vec![0, 1]))?;
    /// assert_eq!(ds.len(), 2);
    /// let err = Dataset::from_inputs::<Net>(&[&[0.0; 6]], Target::Classes(vec![0, 2])).unwrap_err();
    /// assert!(err.to_string().contains("label 2 of sample 1"));
    /// # Ok::<(), kerust::Error>(())
    /// ```
    pub fn from_inputs<M: Model>(inputs: &[&[f32]], y: Target) -> Result<Self> {
        let x = join_inputs::<M>(inputs)?;
        let n = inputs
            .first()
            .zip(M::INPUTS.first())
            .map_or(0, |(xs, info)| xs.len() / info.len.max(1));
        match (&y, M::OUTPUTS) {
            (Target::Multi(parts), outputs) if outputs.len() != 1 || parts.len() != 1 => {
                if parts.len() != outputs.len() {
                    return Err(Error::data(format!(
                        "model `{}` has {} outputs ({}), got {} targets",
                        M::NAME,
                        outputs.len(),
                        names(outputs),
                        parts.len()
                    )));
                }
                for (part, out) in parts.iter().zip(outputs) {
                    check_target(part, n, Some(out))?;
                }
            }
            (_, [out]) => check_target(y.part(0), n, Some(out))?,
            (_, outputs) => {
                return Err(Error::data(format!(
                    "model `{}` has {} outputs ({}): give one target per output with Target::Multi or Target::by_name",
                    M::NAME,
                    outputs.len(),
                    names(outputs)
                )));
            }
        }
        // One input keeps its shape; several are one row of their total length.
        let shape: Vec<usize> = match M::INPUTS {
            [only] if !only.shape.is_empty() => only.shape.to_vec(),
            inputs => alloc::vec![inputs.iter().map(|t| t.len).sum::<usize>()],
        };
        Dataset::new(x, &shape, y)
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        let per: usize = self.sample_shape.iter().product();
        self.x.len() / per.max(1)
    }

    /// Whether the dataset has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// The samples at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        let per = self.sample_len();
        Dataset {
            x: idx
                .iter()
                .flat_map(|&i| self.x[i * per..(i + 1) * per].iter().copied())
                .collect(),
            sample_shape: self.sample_shape.clone(),
            y: self.y.select(idx),
        }
    }

    /// Splits off the last `fraction` of the samples as Keras's `validation_split` does
    /// (the last samples, before shuffling): the first `floor(n * (1 - fraction))` samples
    /// and the rest. Returns `(first, last)`.
    ///
    /// The fraction is read as the decimal it prints as (`0.1_f32` as 0.1, not as
    /// 0.100000001490116), as Keras reads the Python float: 10 samples split 0.1 give 9 and 1.
    ///
    /// ```
    /// use kerust_core::data::{Dataset, Target};
    /// let ds = Dataset::new((0..10).map(|i| i as f32).collect(), &[1], Target::Classes(vec![0; 10]))?;
    /// let (first, last) = ds.split_last(0.25)?;
    /// assert_eq!((first.len(), last.x.as_slice()), (7, &[7.0, 8.0, 9.0][..]));
    /// assert_eq!(ds.split_last(0.1)?.1.len(), 1);
    /// # Ok::<(), kerust_core::Error>(())
    /// ```
    pub fn split_last(&self, fraction: f32) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::invalid_argument(
                "validation_split",
                format!("must be in [0, 1), got {fraction}"),
            ));
        }
        let n = self.len();
        // `{}` prints the shortest decimal that reads back as `fraction`.
        let f: f64 = format!("{fraction}").parse().unwrap_or(f64::from(fraction));
        // Truncation is Keras's floor here: the product is not negative.
        let split_at = ((n as f64 * (1.0 - f)) as usize).min(n);
        let first: Vec<usize> = (0..split_at).collect();
        let last: Vec<usize> = (split_at..n).collect();
        Ok((self.select(&first), self.select(&last)))
    }
}

/// Checks that `y` describes `n` samples with finite values (and, for output `out`, value
/// targets as wide as the output and class labels below its width).
fn check_target(y: &Target, n: usize, out: Option<&TensorInfo>) -> Result<()> {
    let of = |out: Option<&TensorInfo>| out.map_or(String::new(), |o| format!(" of output `{}`", o.name));
    match y {
        Target::Classes(c) => {
            if c.len() != n {
                return Err(Error::data(format!(
                    "{n} samples but {} labels{}",
                    c.len(),
                    of(out)
                )));
            }
            if let Some(o) = out {
                let width = o.shape.last().copied().unwrap_or(1);
                if let Some(i) = c.iter().position(|&l| l as usize >= width) {
                    return Err(Error::data(format!(
                        "label {} of sample {i} is out of range: output `{}` has {width} classes, so its labels must be in 0..{width}",
                        c[i], o.name
                    )));
                }
            }
        }
        Target::Values { width: 0, .. } => {
            return Err(Error::invalid_argument(
                "width",
                format!("targets{} need at least one value per sample", of(out)),
            ));
        }
        Target::Values { data, width } => {
            if let Some(o) = out.filter(|o| o.len != *width) {
                return Err(Error::data(format!(
                    "targets of output `{}` have {width} values per sample, but the output has shape {:?} ({} values)",
                    o.name, o.shape, o.len
                )));
            }
            if data.len() != n * width {
                return Err(Error::data(format!(
                    "{n} samples need {} target values{} ({width} each), found {}",
                    n * width,
                    of(out),
                    data.len()
                )));
            }
            if let Some(i) = data.iter().position(|v| !v.is_finite()) {
                return Err(Error::data(format!(
                    "target value {} of sample {}{} is {} (targets must be finite)",
                    i % width,
                    i / width,
                    of(out),
                    data[i]
                )));
            }
        }
        Target::Multi(parts) => {
            if out.is_some() {
                return Err(Error::data("a Target::Multi cannot be the target of one output"));
            }
            if parts.is_empty() {
                return Err(Error::data("Target::Multi needs at least one target"));
            }
            for (k, part) in parts.iter().enumerate() {
                if matches!(part, Target::Multi(_)) {
                    return Err(Error::data(format!(
                        "target {k} of a Target::Multi is itself a Target::Multi"
                    )));
                }
                check_target(part, n, None).map_err(|e| match e {
                    Error::Data(reason) => Error::data(format!("target {k}: {reason}")),
                    other => other,
                })?;
            }
        }
    }
    Ok(())
}

/// Standardisation `x' = (x - mean) / std` with one mean and standard deviation over all
/// input values, fitted on training data and applied to any data (as Keras's
/// `Normalization(axis=None)` layer after `adapt`).
///
/// ```
/// use kerust::data::{Dataset, Standardizer, Target};
/// let mut train = Dataset::new(vec![0.0, 2.0, 4.0, 6.0], &[2], Target::Classes(vec![0, 1]))?;
/// let s = Standardizer::fit(&train)?;
/// assert_eq!((s.mean, s.std), (3.0, 5.0f32.sqrt()));
/// s.apply(&mut train);
/// assert!(train.x.iter().sum::<f32>().abs() < 1e-6);
/// # Ok::<(), kerust::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standardizer {
    /// The mean of the training inputs.
    pub mean: f32,
    /// Their standard deviation (population, as Keras's `adapt`).
    pub std: f32,
}

impl Standardizer {
    /// Fits mean and standard deviation on `data`'s inputs (computed in `f64`). Fails on an
    /// empty dataset or constant inputs (zero deviation).
    pub fn fit(data: &Dataset) -> Result<Self> {
        if data.x.is_empty() {
            return Err(Error::data("cannot fit a standardisation on an empty dataset"));
        }
        let n = data.x.len() as f64;
        let mean = data.x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = data
            .x
            .iter()
            .map(|&v| (f64::from(v) - mean) * (f64::from(v) - mean))
            .sum::<f64>()
            / n;
        if var.is_nan() || var <= 0.0 {
            return Err(Error::data(
                "inputs are constant: their standard deviation is zero",
            ));
        }
        Ok(Standardizer {
            mean: mean as f32,
            std: libm::sqrt(var) as f32,
        })
    }

    /// Standardises `data`'s inputs in place.
    pub fn apply(&self, data: &mut Dataset) {
        let inv = 1.0 / self.std;
        data.x.iter_mut().for_each(|v| *v = (*v - self.mean) * inv);
    }
}
