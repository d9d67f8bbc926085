//! Loss functions with Keras 3's definitions (values, gradients, epsilons, clipping).
//!
//! A loss sees predictions as rows of `width` values (the last axis of the model's output)
//! and computes one loss per row, as Keras's loss functions do before reduction. The
//! training loop averages them (`sum_over_batch_size`) and scales the gradients.

/// The targets of a batch of rows.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// One class index per row (sparse categorical losses).
    Sparse(&'a [u32]),
    /// One value per prediction value, same layout as the predictions.
    Dense(&'a [f32]),
}

/// What kind of targets a loss takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Class indices in `0..width`.
    Sparse,
    /// Values of the prediction's shape.
    Dense,
}

/// A loss function.
pub trait Loss: Send + Sync {
    /// Keras's name (`"sparse_categorical_crossentropy"`), used in logs and history.
    fn name(&self) -> &'static str;

    /// The kind of targets the loss takes.
    fn target_kind(&self) -> TargetKind;

    /// For `rows = pred.len() / width` rows, writes each row's loss to `losses[r]` and, when
    /// `grad` is given, the gradient of that row's loss with respect to its predictions to
    /// `grad` (same layout as `pred`; unscaled: the caller applies the reduction).
    ///
    /// Targets were validated by the caller: sparse labels are `< width`, dense targets have
    /// `pred.len()` values.
    fn compute(&self, pred: &[f32], targets: Targets<'_>, width: usize, losses: &mut [f32], grad: Option<&mut [f32]>);
}
