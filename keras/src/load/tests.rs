use super::*;

#[test]
fn snake_case_matches_keras() {
    for (class, name) in [
        ("Dense", "dense"),
        ("Conv2D", "conv2d"),
        ("Conv2DTranspose", "conv2d_transpose"),
        ("BatchNormalization", "batch_normalization"),
        ("MaxPooling2D", "max_pooling2d"),
        ("GlobalAveragePooling1D", "global_average_pooling1d"),
        ("DepthwiseConv2D", "depthwise_conv2d"),
        ("SeparableConv2D", "separable_conv2d"),
        ("ZeroPadding2D", "zero_padding2d"),
        ("UpSampling2D", "up_sampling2d"),
        ("LSTM", "lstm"),
        ("ReLU", "re_lu"),
        ("PReLU", "p_re_lu"),
    ] {
        assert_eq!(snake_case(class), name, "{class}");
    }
}
