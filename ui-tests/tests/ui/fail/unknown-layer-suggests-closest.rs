// A misspelt layer kind: `Dens` should suggest `Dense`.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        hidden: Dens(8),
        out: Dense(2),
    }
}

fn main() {}
