//! Finite-difference gradient checks of every layer, activation, loss and whole models.
