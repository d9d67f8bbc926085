// Doc comments and attributes on the model and on its layers are kept.
#![deny(missing_docs)]
//! Crate docs.

use kerust::prelude::*;

model! {
    /// A documented model.
    #[derive(Clone, Copy)]
    pub struct Net: Input<4> {
        /// The hidden layer.
        #[allow(unused)]
        hidden: Dense(8, activation = relu),
        /// The output layer.
        out: Dense(2),
    }
}

/// Entry point.
fn main() {
    let a = Net::new(0);
    let b: Net = *a;
    let c = b;
    assert_eq!(a.params(), c.params());
}
