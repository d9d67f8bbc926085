// Composing layers by hand: 8 outputs cannot feed 9 inputs.
use kerust::layers::{Chain, Dense};

type Bad = Chain<Dense<4, 8>, Dense<9, 2>>;

fn main() {
    let _net = kerust::params::boxed_zeroed::<Bad>();
}
