// Visibility is the user's: `pub(crate)` inside a module.
mod nets {
    use kerust::prelude::*;

    model! {
        pub(crate) struct Net: Input<4> {
            out: Dense(2),
        }
    }
}

fn main() {
    let model = nets::Net::new(0);
    let _: [f32; 2] = model.forward(&[0.0; 4]);
    let _: &kerust::layers::Dense<4, 2> = &model.out;
}
