// Without the macro: 3 channels with depth multiplier 2 give 6 output channels, not 4. The
// layer type's const assertion rejects it when the layer is used.
use kerust::layers::DepthwiseConv2D;
use kerust::Layer;

type Bad = DepthwiseConv2D<4, 4, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 4>;

fn main() {
    let dw = kerust::params::boxed_zeroed::<Bad>();
    let mut y = [0.0; 16];
    dw.forward(&[0.0; 48], &mut y, &mut [], 1);
}
