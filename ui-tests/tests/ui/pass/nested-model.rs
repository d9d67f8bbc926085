// A model used as a layer, with its output shape given, in both forms.
use kerust::prelude::*;

model! {
    pub struct Down: Input<8> {
        d: Dense(4, activation = relu),
    }
}

model! {
    struct Graph {
        x = Input<8>;
        down = Model(Down, output = (4,))(x);
        out = Dense(2)(down);
        outputs(out);
    }
}

model! {
    struct Seq: Input<8> {
        down: Model(Down, output = 4),
        out: Dense(2),
    }
}

fn main() {
    assert_eq!(Graph::PARAM_COUNT, Seq::PARAM_COUNT);
    let _: [f32; 2] = Graph::new(0).forward(&[0.0; 8]);
}
