// Every pooling, padding, cropping and up-sampling layer, with Keras's argument forms.
use kerust::prelude::*;

model! {
    struct Image: Input<9, 7, 2> {
        pad:   ZeroPadding2D(((1, 0), (2, 1))),
        max:   MaxPooling2D(pool_size = 2, padding = "same"),
        up:    UpSampling2D(size = (2, 3), data_format = channels_last, interpolation = bilinear),
        crop:  Cropping2D((1, 2)),
        avg:   AveragePooling2D((3, 2), (2, 1), same),
        near:  UpSampling2D,
        pad2:  ZeroPadding2D,
        crop2: Cropping2D(cropping = 1),
        gmax:  GlobalMaxPooling2D(keepdims = true),
        gavg:  GlobalAveragePooling2D(),
        out:   Dense(3),
    }
}

model! {
    struct Sequence: Input<11, 4> {
        max:  MaxPooling1D(3, strides = 2, padding = same),
        avg:  AveragePooling1D(pool_size = (2,), strides = 1),
        gmax: GlobalMaxPooling1D(channels_last, true),
        gavg: GlobalAveragePooling1D,
        out:  Dense(2),
    }
}

fn main() {
    let image = Image::new(1);
    let y: [f32; 3] = image.forward(&[[[0.5; 2]; 7]; 9]);
    assert!(y.iter().all(|v| v.is_finite()));
    let z = Image::ZERO;
    let _: kerust::layers::ZeroPadding2D<9, 7, 2, 1, 0, 2, 1, 10, 10> = z.pad;
    let _: kerust::layers::MaxPooling2D<10, 10, 2, 2, 2, 2, 2, 0, 0, 5, 5> = z.max;
    let _: kerust::layers::UpSampling2D<5, 5, 2, 2, 3, 10, 15, kerust::layers::Bilinear> = z.up;
    let _: kerust::layers::Cropping2D<10, 15, 2, 1, 1, 2, 2, 8, 11> = z.crop;
    let _: kerust::layers::AveragePooling2D<8, 11, 2, 3, 2, 2, 1, 0, 0, 4, 11> = z.avg;
    let _: kerust::layers::UpSampling2D<4, 11, 2, 2, 2, 8, 22> = z.near;
    let _: kerust::layers::ZeroPadding2D<8, 22, 2, 1, 1, 1, 1, 10, 24> = z.pad2;
    let _: kerust::layers::Cropping2D<10, 24, 2, 1, 1, 1, 1, 8, 22> = z.crop2;
    let _: kerust::layers::GlobalMaxPooling2D<8, 22, 2, [[[f32; 2]; 1]; 1]> = z.gmax;
    let _: kerust::layers::GlobalAveragePooling2D<1, 1, 2> = z.gavg;

    let seq = Sequence::new(2);
    let y: [f32; 2] = seq.forward(&[[0.25; 4]; 11]);
    assert!(y.iter().all(|v| v.is_finite()));
    let z = Sequence::ZERO;
    let _: kerust::layers::MaxPooling1D<11, 4, 3, 2, 1, 6> = z.max;
    let _: kerust::layers::AveragePooling1D<6, 4, 2, 1, 0, 5> = z.avg;
    let _: kerust::layers::GlobalMaxPooling1D<5, 4, [[f32; 4]; 1]> = z.gmax;
    let _: kerust::layers::GlobalAveragePooling1D<1, 4> = z.gavg;
}
