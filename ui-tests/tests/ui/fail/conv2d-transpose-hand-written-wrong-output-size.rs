// Without the macro: a stride-2 `valid` transposed convolution of a 3x3 image with a 3x3
// kernel is 7x7 (up to 8x8 with `output_padding`), not 6x6. The layer type's const
// assertion rejects it when the layer is used.
use kerust::layers::Conv2DTranspose;
use kerust::Layer;

type Bad = Conv2DTranspose<3, 3, 1, 2, 3, 3, 2, 2, 1, 1, 6, 6>;

fn main() {
    let up = kerust::params::boxed_zeroed::<Bad>();
    let mut y = [0.0; 72];
    up.forward(&[0.0; 9], &mut y, &mut [0.0; 162], 1);
}
