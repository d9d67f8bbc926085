//! In-memory datasets: samples as flat `f32` rows, with class labels or value targets.

use alloc::format;
use alloc::vec::Vec;

use crate::{Error, Result};

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
}

impl Target {
    /// The number of samples the targets describe (`None` if `width` is zero).
    pub fn len(&self) -> Option<usize> {
        match self {
            Target::Classes(c) => Some(c.len()),
            Target::Values { data, width } => (*width > 0).then(|| data.len() / width),
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
        }
    }
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
        match &y {
            Target::Classes(c) if c.len() != n => {
                return Err(Error::data(format!("{n} samples but {} labels", c.len())));
            }
            Target::Values { width: 0, .. } => {
                return Err(Error::invalid_argument(
                    "width",
                    "targets need at least one value per sample",
                ));
            }
            Target::Values { data, width } => {
                if data.len() != n * width {
                    return Err(Error::data(format!(
                        "{n} samples need {} target values ({width} each), found {}",
                        n * width,
                        data.len()
                    )));
                }
                if let Some(i) = data.iter().position(|v| !v.is_finite()) {
                    return Err(Error::data(format!(
                        "target value {} of sample {} is {} (targets must be finite)",
                        i % width,
                        i / width,
                        data[i]
                    )));
                }
            }
            Target::Classes(_) => {}
        }
        Ok(Dataset {
            x,
            sample_shape: sample_shape.to_vec(),
            y,
        })
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
