// A hand-written pooling type whose output size is not Keras's: 4 rows pooled by 2 give 2
// rows, not 3.
use kerust::layers::MaxPooling2D;
use kerust::Layer;

fn main() {
    let pool = MaxPooling2D::<4, 4, 1, 2, 2, 2, 2, 0, 0, 3, 3>::new();
    let mut y = [0.0; 9];
    pool.forward(&[0.0; 16], &mut y, &mut [], 1);
}
