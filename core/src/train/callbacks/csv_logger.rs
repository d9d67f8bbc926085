//! [`CsvLogger`]: write each epoch's logs to a CSV file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use crate::train::{Callback, Context, Control, Logs};

/// Writes one row per epoch to a CSV file, in Keras's format (Keras's `CSVLogger`).
///
/// The file is created (or truncated; with `append`, opened for appending) when training
/// begins. Its header is `epoch` followed by the first epoch's log names in sorted order;
/// when none of them starts with `val_`, Keras adds a `val_` column for each (training
/// without validation leaves them `NA`, as does an epoch without validation). Each row holds
/// the epoch (from 0) and the values as Python prints floats (`0.25`, `1e-05`, `nan`), `NA`
/// for a missing value; entries first seen after the first epoch are left out. Lines end
/// in `\r\n` and fields holding the separator are quoted, as Python's `csv` module writes
/// them. Each row is flushed when written. With `append`, the header is written only to an
/// empty or new file.
///
/// # Errors
///
/// Hooks cannot return errors, so I/O errors do not stop training: the first one is kept
/// and [`CsvLogger::error`] returns it, and writing stops until the next `fit`. Check it
/// after training.
///
/// ```
/// use kerust::train::callbacks::CsvLogger;
/// use kerust::train::{Callback, Context, Logs};
/// use kerust::optim::Sgd;
///
/// let path = std::env::temp_dir().join("kerust-csv-logger-doc.csv");
/// let mut csv = CsvLogger::new(&path);
/// let (mut params, mut sgd) = (vec![0.0f32; 2], Sgd::new(0.1));
/// let mut ctx = Context::new(&mut params, &mut sgd);
/// csv.on_train_begin(&mut ctx);
/// for (epoch, loss) in [0.5, 0.25].into_iter().enumerate() {
///     let mut logs = Logs::default();
///     logs.set("loss", loss);
///     logs.set("val_loss", loss * 2.0);
///     csv.on_epoch_end(epoch, &logs, &mut ctx);
/// }
/// csv.on_train_end(&Logs::default(), &mut ctx);
/// assert!(csv.error().is_none());
/// let text = std::fs::read_to_string(&path)?;
/// assert_eq!(text, "epoch,loss,val_loss\r\n0,0.5,1.0\r\n1,0.25,0.5\r\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "CSVLogger")]
pub struct CsvLogger {
    path: PathBuf,
    separator: char,
    append: bool,
    file: Option<File>,
    keys: Option<Vec<String>>,
    append_header: bool,
    error: Option<io::Error>,
    line: String,
}

impl CsvLogger {
    /// Logs to `path`, separated by commas, overwriting the file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger {
            path: path.into(),
            separator: ',',
            append: false,
            file: None,
            keys: None,
            append_header: true,
            error: None,
            line: String::new(),
        }
    }

    /// The field separator (default `,`).
    #[must_use]
    pub fn separator(mut self, separator: char) -> Self {
        self.separator = separator;
        self
    }

    /// Append to an existing file rather than overwrite it, e.g. to continue a training
    /// (default `false`).
    #[must_use]
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The first I/O error met, if any (since creation or the last
    /// [`CsvLogger::take_error`]).
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Takes the recorded I/O error out, leaving none.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    fn record(&mut self, e: io::Error) {
        self.file = None;
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn open(&mut self) -> io::Result<File> {
        if self.append {
            // Keras writes the header only to a file whose first line is empty.
            match std::fs::metadata(&self.path) {
                Ok(m) => self.append_header = m.len() == 0,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            OpenOptions::new().append(true).create(true).open(&self.path)
        } else {
            File::create(&self.path)
        }
    }

    /// Adds `field` to the line, quoted if it holds the separator, a quote or a line break.
    fn push_field(&mut self, field: &str) {
        if !self.line.is_empty() {
            self.line.push(self.separator);
        }
        let sep = self.separator;
        if field.contains([sep, '"', '\r', '\n']) {
            self.line.push('"');
            self.line.push_str(&field.replace('"', "\"\""));
            self.line.push('"');
        } else {
            self.line.push_str(field);
        }
    }

    fn write_line(&mut self) -> io::Result<()> {
        self.line.push_str("\r\n");
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(self.line.as_bytes())?;
        file.flush()
    }
}

/// `v` as Python's `repr(float)` prints it: the shortest digits that read back to `v`, in
/// positional notation for exponents -4 to 15 (with `.0` on whole numbers), in scientific
/// notation otherwise (`1e-05`, `1.5e+16`).
fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: `d.ddde<exp>`.
    let sci = std::format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        // How many digits come before the decimal point (Python's `decpt`).
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(core::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point.unsigned_abs() as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                out.extend(core::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let exp = exp.unsigned_abs();
        if exp < 10 {
            out.push('0');
        }
        out.push_str(&exp.to_string());
    }
    out
}

impl Callback for CsvLogger {
    /// Opens the file (an error is recorded, see [`CsvLogger::error`]).
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.file = None;
        self.keys = None;
        match self.open() {
            Ok(file) => self.file = Some(file),
            Err(e) => self.record(e),
        }
    }

    /// Writes the epoch's row, and the header first (an error is recorded).
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        let _ = ctx;
        if self.file.is_none() {
            return Control::Continue;
        }
        // Keras takes the columns from the first epoch of each `fit`.
        let epoch_is_first = self.keys.is_none();
        let keys = self.keys.take().unwrap_or_else(|| {
            let mut keys: Vec<String> = logs.iter().map(|(n, _)| n.into()).collect();
            keys.sort();
            if !keys.is_empty() && !keys.iter().any(|k| k.starts_with("val_")) {
                let val: Vec<String> = keys.iter().map(|k| std::format!("val_{k}")).collect();
                keys.extend(val);
            }
            keys
        });
        let mut result = Ok(());
        // The header goes with a `fit`'s first row.
        if self.append_header && epoch_is_first {
            self.line.clear();
            self.push_field("epoch");
            for k in &keys {
                self.push_field(k);
            }
            result = self.write_line();
        }
        if result.is_ok() {
            self.line.clear();
            self.push_field(&epoch.to_string());
            for k in &keys {
                let value = logs.get(k).map_or_else(|| "NA".into(), python_float);
                self.push_field(&value);
            }
            result = self.write_line();
        }
        self.keys = Some(keys);
        if let Err(e) = result {
            self.record(e);
        }
        Control::Continue
    }

    /// Closes the file.
    fn on_train_end(&mut self, logs: &Logs, ctx: &mut Context<'_>) {
        let _ = (logs, ctx);
        self.file = None;
    }
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_print_as_python_repr() {
        // Python 3: [repr(v) for v in ...]
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (0.00012345, "0.00012345"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5e-300, "1.5e-300"),
            (-2.5, "-2.5"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (100.0, "100.0"),
            (1e22, "1e+22"),
            (12345.678, "12345.678"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(v, s) in cases {
            assert_eq!(python_float(v), s, "{v:e}");
        }
    }
}
