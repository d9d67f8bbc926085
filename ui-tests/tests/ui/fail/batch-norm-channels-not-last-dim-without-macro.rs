// Written by hand, the channel count must be the last dimension of the sample shape.
use kerust::layers::BatchNormalization;
use kerust::Layer;

type Bad = BatchNormalization<[[f32; 4]; 8], 8>;

fn main() {
    let mut bn = kerust::params::boxed_zeroed::<Bad>();
    bn.init(&mut kerust::Rng::new(0));
}
