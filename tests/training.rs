//! The training surface: convergence, determinism, errors on bad input.
