//! Per-epoch results: [`Logs`] for one epoch, [`History`] for a whole `fit`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

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
}
