//! Keras files: any input, read as HDF5 (every group and dataset reachable within a bound)
//! and loaded as `.weights.h5` and `.keras` into a fixed model, is an error or a load, never
//! a panic, a hang or an unbounded allocation. A model is unchanged by a failed load.
#![no_main]

use kerust::model;
use kerust_keras::h5::{File, Group, Node};
use kerust_keras::load::{load_keras, load_weights_h5};
use libfuzzer_sys::fuzz_target;

model! {
    /// The architecture of `keras/tests/fixtures/cnn.keras`, the main seed.
    struct Cnn: Input<12, 12, 1> {
        conv1: Conv2D(4, (3, 3), activation = relu),
        pool:  MaxPooling2D((2, 2)),
        bn:    BatchNormalization,
        conv2: Conv2D(6, (3, 3), padding = same, activation = relu),
        flat:  Flatten,
        drop:  Dropout(0.5),
        out:   Dense(5, activation = softmax),
    }
}

/// Reads what is reachable from `g`, at most `budget` objects in all (hard links may form
/// cycles, which the reader does not hide from callers that walk the tree).
fn walk(g: &Group<'_>, depth: usize, budget: &mut usize) {
    if depth > 16 {
        return;
    }
    for link in g.members() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        match g.get(&link.name) {
            Ok(Node::Group(c)) => walk(&c, depth + 1, budget),
            Ok(Node::Dataset(d)) => {
                if let Ok((shape, values)) = d.read_f32() {
                    assert_eq!(shape.iter().product::<usize>(), values.len());
                }
            }
            Err(_) => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = File::parse(data) {
        if let Ok(root) = file.root() {
            walk(&root, 0, &mut 2000);
        }
    }
    let mut m = Cnn::ZERO;
    m.params_mut()[0] = 0.5;
    let before = m.params().to_vec();
    let ok = if data.starts_with(b"PK") {
        load_keras(&mut m, data).is_ok()
    } else {
        load_weights_h5(&mut m, data).is_ok()
    };
    if !ok {
        assert_eq!(m.params(), &before[..], "a failed load changed the model");
    }
});
