//! The error type of every fallible kerust operation.

use alloc::string::String;

/// What went wrong, with what was expected and what was found.
///
/// Shape mistakes in a declared model are compile errors; `Error` covers what can only be
/// known at run time: data, files and user arguments.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data handed to `fit`, `evaluate` or `predict` is unusable.
    #[error("invalid data: {0}")]
    Data(String),
    /// An argument (batch size, split, rate, ...) is out of its valid range.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument's name, as in the API.
        name: &'static str,
        /// What was wrong and what is accepted.
        reason: String,
    },
    /// A file or byte buffer is not in the expected format.
    #[error("invalid {format} data: {reason}")]
    Format {
        /// The format being read, e.g. `"IDX"` or `"CSV"`.
        format: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A tensor has a different shape than the model expects.
    #[error("shape mismatch for `{name}`: expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// The tensor's name.
        name: String,
        /// The shape the model expects.
        expected: alloc::vec::Vec<usize>,
        /// The shape that was found.
        found: alloc::vec::Vec<usize>,
    },
    /// A weights or checkpoint file lacks a tensor the model has.
    #[error(
        "missing tensor `{name}`: the model expects shape {expected:?} (F32), the file has no such tensor"
    )]
    MissingTensor {
        /// The tensor's name (`layer/param`).
        name: String,
        /// The shape the model expects.
        expected: alloc::vec::Vec<usize>,
    },
    /// A weights or checkpoint file holds a tensor the model does not have.
    #[error("unexpected tensor `{name}` with shape {found:?}: the model has no such parameter")]
    UnexpectedTensor {
        /// The tensor's name, as in the file.
        name: String,
        /// Its shape in the file.
        found: alloc::vec::Vec<usize>,
    },
    /// A tensor is stored with another element type than the model's.
    #[error("dtype mismatch for `{name}`: expected {expected} with shape {shape:?}, found {found}")]
    DtypeMismatch {
        /// The tensor's name.
        name: String,
        /// The element type the model expects (`F32`).
        expected: &'static str,
        /// The element type in the file.
        found: String,
        /// The shape the model expects.
        shape: alloc::vec::Vec<usize>,
    },
    /// An operating-system I/O error while reading or writing `path`.
    #[cfg(feature = "std")]
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file concerned.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid_argument(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Data`].
    pub fn data(reason: impl Into<String>) -> Self {
        Error::Data(reason.into())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
