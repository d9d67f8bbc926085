//! What a build of the embedded firmware prints, parsed; and the comparison with the
//! desktop's results (`data/expected-*.txt`, in the same line format).
//!
//! Shared by the host test (`tests/qemu.rs`) and the desktop example
//! (`examples/embedded_train.rs --check`, which includes this file with `#[path]`).

use std::fmt::Write as _;

/// One classified sample: `sample I: label L pred P logits XXXXXXXX ...` (f32 bit patterns).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample's index.
    pub index: usize,
    /// Its true class.
    pub label: u32,
    /// The predicted class.
    pub pred: u32,
    /// The logits.
    pub logits: Vec<f32>,
}

/// The results in a run's output; lines of other kinds are ignored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Results {
    /// `loss: X (step S)` lines, in order.
    pub losses: Vec<f32>,
    /// `sample ...` lines, in order.
    pub samples: Vec<Sample>,
    /// `accuracy: 0.XXXX (hits/count)`: `(hits, count)` of the last such line.
    pub accuracy: Option<(usize, usize)>,
    /// `stack_peak_bytes: N`.
    pub stack_peak_bytes: Option<usize>,
}

/// Parses a run's output.
///
/// # Errors
///
/// A line of a known kind that is malformed, with its number and text.
pub fn parse(text: &str) -> Result<Results, String> {
    let mut r = Results::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let bad = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("loss: ") {
            let v = rest.split_whitespace().next().unwrap_or("");
            r.losses.push(v.parse().map_err(|_| bad("bad loss"))?);
        } else if let Some(rest) = line.strip_prefix("accuracy: ") {
            let frac = rest
                .split_whitespace()
                .nth(1)
                .and_then(|f| f.strip_prefix('('))
                .and_then(|f| f.strip_suffix(')'))
                .and_then(|f| f.split_once('/'))
                .ok_or_else(|| bad("no (hits/count) after the accuracy"))?;
            let hits = frac.0.parse().map_err(|_| bad("bad hits"))?;
            let count = frac.1.parse().map_err(|_| bad("bad count"))?;
            r.accuracy = Some((hits, count));
        } else if let Some(rest) = line.strip_prefix("stack_peak_bytes: ") {
            r.stack_peak_bytes = Some(rest.trim().parse().map_err(|_| bad("bad stack size"))?);
        } else if let Some(rest) = line.strip_prefix("sample ") {
            r.samples
                .push(parse_sample(rest).ok_or_else(|| bad("bad sample line"))?);
        }
    }
    Ok(r)
}

fn parse_sample(rest: &str) -> Option<Sample> {
    let (index, rest) = rest.split_once(": ")?;
    let mut words = rest.split_whitespace();
    let mut field = |name: &str| -> Option<u32> {
        (words.next()? == name).then_some(())?;
        words.next()?.parse().ok()
    };
    let (label, pred) = (field("label")?, field("pred")?);
    (words.next()? == "logits").then_some(())?;
    let logits = words
        .map(|w| u32::from_str_radix(w, 16).ok().map(f32::from_bits))
        .collect::<Option<Vec<_>>>()?;
    Some(Sample {
        index: index.parse().ok()?,
        label,
        pred,
        logits,
    })
}

/// Formats a sample line as the firmware does.
pub fn sample_line(index: usize, label: u32, logits: &[f32]) -> String {
    let pred = argmax(logits);
    let mut line = format!("sample {index}: label {label} pred {pred} logits");
    for v in logits {
        let _ = write!(line, " {:08x}", v.to_bits());
    }
    line
}

/// Formats the accuracy line as the firmware does.
pub fn accuracy_line(hits: usize, count: usize) -> String {
    format!(
        "accuracy: {:.4} ({hits}/{count})",
        hits as f64 / count.max(1) as f64
    )
}

/// Formats a loss line as the firmware does.
pub fn loss_line(step: usize, loss: f32) -> String {
    format!("loss: {loss:.6} (step {step})")
}

/// The index of the largest value (the first on ties), as the firmware computes it.
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// How closely two runs agreed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Agreement {
    /// Samples compared.
    pub samples: usize,
    /// Loss values compared.
    pub losses: usize,
    /// The largest absolute difference of a logit.
    pub max_logit_diff: f32,
    /// The largest absolute difference of a loss.
    pub max_loss_diff: f32,
}

/// Checks that `actual` reproduces `expected`: the same samples in the same order with the
/// same labels and predicted classes, every logit and loss within `tolerance`, the same
/// accuracy.
///
/// # Errors
///
/// The first few differences, one per line.
pub fn compare(expected: &Results, actual: &Results, tolerance: f32) -> Result<Agreement, String> {
    let mut errors = Vec::new();
    let mut agreement = Agreement {
        samples: expected.samples.len(),
        losses: expected.losses.len(),
        ..Agreement::default()
    };
    if expected.samples.len() != actual.samples.len() {
        errors.push(format!(
            "{} samples classified, expected {}",
            actual.samples.len(),
            expected.samples.len()
        ));
    }
    for (e, a) in expected.samples.iter().zip(&actual.samples) {
        if (e.index, e.label, e.pred, e.logits.len()) != (a.index, a.label, a.pred, a.logits.len()) {
            errors.push(format!(
                "sample {}: label {} pred {} ({} logits), expected sample {}: label {} pred {} ({} logits)",
                a.index,
                a.label,
                a.pred,
                a.logits.len(),
                e.index,
                e.label,
                e.pred,
                e.logits.len()
            ));
        }
        for (j, (x, y)) in e.logits.iter().zip(&a.logits).enumerate() {
            let d = (x - y).abs();
            agreement.max_logit_diff = agreement.max_logit_diff.max(d);
            if d > tolerance || !d.is_finite() {
                errors.push(format!(
                    "sample {}: logit {j} is {y}, expected {x} (difference {d:e})",
                    e.index
                ));
            }
        }
    }
    if expected.losses.len() != actual.losses.len() {
        errors.push(format!(
            "{} loss values, expected {}",
            actual.losses.len(),
            expected.losses.len()
        ));
    }
    for (s, (x, y)) in expected.losses.iter().zip(&actual.losses).enumerate() {
        let d = (x - y).abs();
        agreement.max_loss_diff = agreement.max_loss_diff.max(d);
        if d > tolerance || !d.is_finite() {
            errors.push(format!(
                "loss at step {} is {y}, expected {x} (difference {d:e})",
                s + 1
            ));
        }
    }
    if expected.accuracy != actual.accuracy {
        errors.push(format!(
            "accuracy (hits, count) {:?}, expected {:?}",
            actual.accuracy, expected.accuracy
        ));
    }
    if errors.is_empty() {
        Ok(agreement)
    } else {
        let n = errors.len();
        errors.truncate(10);
        Err(format!("{n} differences; the first:\n  {}", errors.join("\n  ")))
    }
}
