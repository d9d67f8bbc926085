// The functional form: a residual block, a shared layer, two inputs and two outputs.
use kerust::prelude::*;

model! {
    /// Image and tabular inputs; a class and a value.
    pub struct TwoInTwoOut {
        img = Input<8, 8, 1>;
        tab = Input<4>;
        c = Conv2D(4, 3, padding = same, activation = relu)(img);
        r = Conv2D(4, 3, padding = same)(c);
        s = Add(c, r);
        g = GlobalAveragePooling2D()(s);
        shared: Dense(4, activation = relu);
        t1 = shared(tab);
        t2 = shared(t1);
        both = Concatenate(axis = -1)(g, t2);
        class = Dense(3, activation = softmax)(both);
        value = Dense(1)(both);
        outputs(class, value);
    }
}

fn main() {
    let model = TwoInTwoOut::new(0);
    let (class, value): ([f32; 3], [f32; 1]) = model.forward((&[[[0.5; 1]; 8]; 8], &[1.0; 4]));
    assert!((class.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert!(value[0].is_finite());
    assert_eq!(<TwoInTwoOut as Model>::OUTPUTS.len(), 2);
}
