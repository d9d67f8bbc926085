//! Per-epoch results: [`Logs`] for one epoch, [`History`] for a whole `fit`, and their
//! export as CSV (Keras's `CSVLogger`) and, with the `plot` feature, as a PNG of the
//! training curves.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

#[cfg(feature = "plot")]
mod plot;
#[cfg(feature = "plot")]
mod text;
#[cfg(feature = "plot")]
pub use plot::PlotOptions;

/// Named results, in insertion order (as Keras: metrics, then `loss`, then the `val_`
/// entries in the same order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    entries: Vec<(String, f64)>,
}

impl Logs {
    /// Sets `name` to `value`, replacing an earlier value.
    pub fn set(&mut self, name: &str, value: f64) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = value,
            None => self.entries.push((name.into(), value)),
        }
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.entries.iter().find(|(n, _)| n == name).map(|e| e.1)
    }

    /// The loss (NaN if absent).
    pub fn loss(&self) -> f64 {
        self.get("loss").unwrap_or(f64::NAN)
    }

    /// Sorts the entries by name (Keras 3's order for models with several outputs).
    pub(crate) fn sort_by_name(&mut self) {
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// All entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), *v))
    }
}

impl fmt::Display for Logs {
    /// Keras's style: `accuracy: 0.9123 - loss: 0.2345`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(" - ")?;
            }
            write!(f, "{n}: {v:.4}")?;
        }
        Ok(())
    }
}

/// What `fit` returns: one [`Logs`] per epoch, as Keras's `History`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epoch numbers (from 0).
    pub epochs: Vec<usize>,
    /// The logs of each epoch.
    pub logs: Vec<Logs>,
}

impl History {
    /// The values of `name` over the epochs (Keras's `history.history[name]`).
    pub fn metric(&self, name: &str) -> Vec<f64> {
        self.logs.iter().filter_map(|l| l.get(name)).collect()
    }

    /// The last epoch's logs.
    pub fn last(&self) -> Option<&Logs> {
        self.logs.last()
    }

    /// The number of epochs recorded.
    pub fn len(&self) -> usize {
        self.logs.len()
    }

    /// Whether no epoch was recorded (e.g. `fit` with `epochs: 0`).
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }

    /// Every name in the logs, in the order first seen (Keras's `history.history.keys()`):
    /// names that appear only in later epochs, such as `val_loss` with a
    /// `validation_freq` above 1, come after those of the first epoch.
    ///
    /// ```
    /// use kerust::train::{History, Logs};
    /// let mut first = Logs::default();
    /// first.set("accuracy", 0.5);
    /// first.set("loss", 1.5);
    /// let mut second = first.clone();
    /// second.set("val_loss", 1.25);
    /// let history = History { epochs: vec![0, 1], logs: vec![first, second] };
    /// assert_eq!(history.names(), ["accuracy", "loss", "val_loss"]);
    /// ```
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in self.logs.iter().flat_map(Logs::iter) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Writes the history as CSV, as Keras's `CSVLogger` does: a header
    /// `epoch,<names>` (the names of [`History::names`], in that order), then one row per
    /// epoch with the epoch number (from 0) and each value.
    ///
    /// Values are written as Python's `repr(float)` writes them, the shortest text that
    /// reads back to the same `f64` (`0.25`, `1.0`, `1e-05`, `nan`, `inf`); a value missing
    /// from an epoch (validation skipped by `validation_freq`) is `NA`. Lines end with
    /// `\n`; a name holding a comma, a quote or a line break is quoted.
    ///
    /// ```
    /// use kerust::train::{History, Logs};
    /// let mut logs = Logs::default();
    /// logs.set("accuracy", 0.875);
    /// logs.set("loss", 0.5);
    /// logs.set("val_loss", 1e-5);
    /// let history = History { epochs: vec![0], logs: vec![logs] };
    /// let mut csv = Vec::new();
    /// history.write_csv(&mut csv)?;
    /// assert_eq!(String::from_utf8(csv).unwrap(), "epoch,accuracy,loss,val_loss\n0,0.875,0.5,1e-05\n");
    /// # Ok::<(), kerust::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a history without epochs or with a different number
    /// of epoch numbers and logs; [`Error::Io`] when writing fails (its path is
    /// `<writer>`, since a writer has none: [`History::save_csv`] names the file).
    pub fn write_csv(&self, w: impl Write) -> Result<()> {
        self.check("write as CSV")?;
        self.write_csv_to(w)
            .map_err(|source| io_error(PathBuf::from("<writer>"), source))
    }

    /// [`History::write_csv`] into the file `path`, created or truncated.
    ///
    /// ```no_run
    /// # use kerust::train::History;
    /// # let history = History::default();
    /// history.save_csv("target/history.csv")?;
    /// # Ok::<(), kerust::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`History::write_csv`], checked before the file is touched; [`Error::Io`] with
    /// `path` when the file cannot be created or written.
    pub fn save_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.check("write as CSV")?;
        let write = || -> io::Result<()> {
            let mut w = io::BufWriter::new(std::fs::File::create(path)?);
            self.write_csv_to(&mut w)?;
            w.flush()
        };
        write().map_err(|source| io_error(path.to_path_buf(), source))
    }

    /// Checks that the history has epochs to export and consistent fields.
    fn check(&self, what: &str) -> Result<()> {
        if self.logs.is_empty() {
            return Err(Error::invalid_argument(
                "history",
                alloc::format!("has no epochs to {what} (did `fit` run with `epochs: 0`?)"),
            ));
        }
        if self.epochs.len() != self.logs.len() {
            return Err(Error::invalid_argument(
                "history",
                alloc::format!(
                    "has {} epoch numbers but {} logs; `epochs` and `logs` need one entry per epoch",
                    self.epochs.len(),
                    self.logs.len()
                ),
            ));
        }
        Ok(())
    }

    fn write_csv_to(&self, mut w: impl Write) -> io::Result<()> {
        let names = self.names();
        let mut line = String::from("epoch");
        for name in &names {
            line.push(',');
            push_csv_field(&mut line, name);
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        for (epoch, logs) in self.epochs.iter().zip(&self.logs) {
            line.clear();
            line.push_str(&alloc::format!("{epoch}"));
            for name in &names {
                line.push(',');
                match logs.get(name) {
                    Some(v) => push_python_float(&mut line, v),
                    None => line.push_str("NA"),
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

fn io_error(path: PathBuf, source: io::Error) -> Error {
    Error::Io { path, source }
}

/// Appends `field`, quoted as Python's `csv` module does by default (`QUOTE_MINIMAL`).
fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Appends `v` as Python's `repr(float)`: the shortest digits that round-trip, in
/// positional notation for exponents in `-5..16` (with at least one decimal) and in
/// scientific notation with a signed two-digit exponent otherwise.
fn push_python_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("nan");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
        return;
    }
    // Rust's `{:e}` prints the shortest round-trip digits: `-1.2345e-5`, `0e0`.
    let sci = alloc::format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` writes an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` writes an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    out.push_str(sign);
    // Python's rule (`float_repr_style = 'short'`): `decpt` digits before the point.
    let decpt = exp + 1;
    if -4 < decpt && decpt <= 16 {
        let n = digits.len() as i32;
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(core::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            out.extend(core::iter::repeat_n('0', (decpt - n) as usize));
            out.push_str(".0");
        } else {
            let (int, frac) = digits.split_at(decpt as usize);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&alloc::format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(v: f64) -> String {
        let mut s = String::new();
        push_python_float(&mut s, v);
        s
    }

    #[test]
    fn floats_are_written_as_python_repr() {
        // Expected strings are Python 3's `repr(v)`.
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (0.9, "0.9"),
            (f64::from(0.9_f32), "0.8999999761581421"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123456.0, "123456.0"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.00001, "1e-05"),
            (-1.5e-7, "-1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.25e17, "1.25e+17"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(v, expected) in cases {
            assert_eq!(repr(v), expected, "repr({v:?})");
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        let mut s = String::new();
        push_csv_field(&mut s, "loss");
        s.push(',');
        push_csv_field(&mut s, "a,b \"c\"");
        assert_eq!(s, "loss,\"a,b \"\"c\"\"\"");
    }
}
