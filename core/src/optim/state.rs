//! [`OptimizerState`]: an optimizer's variables, as checkpoints save and restore them.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::{Error, Result};

/// An optimizer's variables: the iteration count and named per-parameter slots, each as long as
/// the flat parameter slice (Keras's `optimizer.variables`).
///
/// Slot names follow Keras: `"momentum"` (SGD's velocity, Adam's first moment), `"velocity"`
/// and `"velocity_hat"` (Adam). An optimizer that has not stepped yet has no slots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    /// Updates applied so far (Keras's `iterations`).
    pub iterations: u64,
    /// `(name, values)` per slot.
    pub slots: Vec<(String, Vec<f32>)>,
}

impl OptimizerState {
    /// A state with `iterations` and no slots.
    pub fn new(iterations: u64) -> Self {
        Self {
            iterations,
            slots: Vec::new(),
        }
    }

    /// The values of the slot named `name`, if present.
    pub fn slot(&self, name: &str) -> Option<&[f32]> {
        self.slots
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Makes `slot` hold `n` values: kept as they are when it already does, zeros otherwise (the
/// first step, or the parameter count changed).
pub(crate) fn fit_slot(slot: &mut Vec<f32>, n: usize) {
    if slot.len() != n {
        slot.clear();
        slot.resize(n, 0.0);
    }
}

/// Takes the slots `names` out of `state`, in that order, after checking that `state` holds
/// exactly those (or none at all: an optimizer saved before its first step), all of one length,
/// equal to `built_len` when the optimizer already has state.
///
/// Returns an empty `Vec` for a state without slots.
pub(crate) fn take_slots(
    optimizer: &'static str,
    state: &mut OptimizerState,
    names: &[&'static str],
    built_len: Option<usize>,
) -> Result<Vec<Vec<f32>>> {
    if state.slots.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<&str> = state.slots.iter().map(|(n, _)| n.as_str()).collect();
    found.sort_unstable();
    let mut expected = names.to_vec();
    expected.sort_unstable();
    if found != expected {
        return Err(Error::InvalidArgument {
            name: "state",
            reason: format!("optimizer `{optimizer}` keeps slots {expected:?}, found {found:?}"),
        });
    }
    let len = built_len.unwrap_or(state.slots[0].1.len());
    let mut taken = Vec::with_capacity(names.len());
    for &name in names {
        let i = state
            .slots
            .iter()
            .position(|(n, _)| n == name)
            .expect("names checked above");
        let values = core::mem::take(&mut state.slots[i].1);
        if values.len() != len {
            return Err(Error::ShapeMismatch {
                name: format!("{optimizer}/{name}"),
                expected: vec![len],
                found: vec![values.len()],
            });
        }
        taken.push(values);
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(slots: &[(&str, &[f32])]) -> OptimizerState {
        OptimizerState {
            iterations: 4,
            slots: slots.iter().map(|(n, v)| ((*n).into(), v.to_vec())).collect(),
        }
    }

    #[test]
    fn takes_slots_in_the_requested_order() {
        let mut s = state(&[("velocity", &[2.0, 2.0]), ("momentum", &[1.0, 1.0])]);
        assert_eq!(s.slot("velocity"), Some(&[2.0, 2.0][..]));
        let taken = take_slots("adam", &mut s, &["momentum", "velocity"], None).unwrap();
        assert_eq!(taken, vec![vec![1.0, 1.0], vec![2.0, 2.0]]);
    }

    #[test]
    fn rejects_wrong_names_and_lengths() {
        let mut s = state(&[("momentum", &[1.0, 1.0])]);
        let err = take_slots("adam", &mut s, &["momentum", "velocity"], None).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { name: "state", .. }),
            "{err}"
        );

        let mut s = state(&[("momentum", &[1.0, 1.0]), ("velocity", &[1.0])]);
        let err = take_slots("adam", &mut s, &["momentum", "velocity"], None).unwrap_err();
        assert!(
            matches!(&err, Error::ShapeMismatch { name, expected, found }
                if name == "adam/velocity" && expected == &[2] && found == &[1]),
            "{err}"
        );

        // Consistent with each other, but not with the state the optimizer already has.
        let mut s = state(&[("momentum", &[1.0, 1.0])]);
        let err = take_slots("sgd", &mut s, &["momentum"], Some(3)).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    }
}
