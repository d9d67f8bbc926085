// The expansion does not rely on the standard prelude either.
#![no_implicit_prelude]

mod inner {
    ::kerust::model! {
        pub struct Net: Input<4> {
            out: Dense(2, activation = softmax),
        }
    }
}

fn main() {
    let y = inner::Net::new(0).forward(&[1.0; 4]);
    ::std::assert!((y[0] + y[1] - 1.0).abs() < 1e-6);
}
