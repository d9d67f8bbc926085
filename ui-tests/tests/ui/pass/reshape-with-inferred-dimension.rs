// `-1` in a `Reshape` target is inferred from the input size; `Flatten()` with empty
// parentheses is the same as `Flatten`; shapes may be tuples, arrays or a single number.
use kerust::prelude::*;

model! {
    struct Net: Input<64> {
        grid: Reshape((4, -1, 2)),
        flat: Flatten(),
        square: Reshape(target_shape = [8, 8]),
        line: Reshape(64),
        out: Dense(3),
    }
}

fn main() {
    const _: () = assert!(<Net as kerust::Model>::LAYERS[0].output_shape.len() == 3);
    let grid = <Net as kerust::Model>::LAYERS[0].output_shape;
    assert_eq!(grid, &[4, 8, 2]);
    let y: [f32; 3] = Net::new(0).forward(&[1.0; 64]);
    assert!(y.iter().all(|v| v.is_finite()));
}
