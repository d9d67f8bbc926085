//! The error of reading a Keras archive or architecture.

use std::fmt;

/// What was wrong with a `.keras` archive or its `config.json`: the message names the
/// layer, the option, the value found and what kerust supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message, without a prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error, its message prefixed with `context: ` (e.g. the file's path).
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self::new(format!("{context}: {}", self.message))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(feature = "load")]
impl From<ConfigError> for kerust_core::Error {
    fn from(e: ConfigError) -> Self {
        kerust_core::Error::Format {
            format: "Keras",
            reason: e.message,
        }
    }
}

/// A result whose error is a [`ConfigError`].
pub type Result<T, E = ConfigError> = std::result::Result<T, E>;
