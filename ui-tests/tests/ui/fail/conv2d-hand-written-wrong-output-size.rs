// Without the macro: a 3x3 valid convolution of a 5x5 image is 3x3, not 4x4. The layer
// type's const assertion rejects it when the layer is used.
use kerust::layers::Conv2D;
use kerust::Layer;

type Bad = Conv2D<5, 5, 1, 2, 3, 3, 1, 1, 1, 1, 4, 4>;

fn main() {
    let conv = kerust::params::boxed_zeroed::<Bad>();
    let mut y = [0.0; 32];
    conv.forward(&[0.0; 25], &mut y, &mut [0.0; 81], 1);
}
